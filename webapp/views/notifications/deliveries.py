"""Events > Deliveries: the ledger of every outgoing message, with filters and Retry.

Like Logs, htmx requests get fragments: the results for a good filter, or only the inline
field errors for a bad one (the results keep their last good state and the URL is not
pushed); a plain request with a bad value gets the whole page with its messages and a 400.
Retry answers htmx with the refreshed results and a notice, and a plain form post with a
flash and a redirect back to the same view.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from flask_htmx import make_response as htmx_response

from webapp.core.db_types import utcnow
from webapp.core.extensions import db, htmx
from webapp.events.errors import BadQuery
from webapp.models import NotificationRule, NotificationTransport
from webapp.notifications import ledger
from webapp.notifications.ledger import ParsedDeliveryFilter
from webapp.views.events.filtering import wants_fragment
from webapp.web.template_helpers import filter_url, time_ago

bp = Blueprint("deliveries", __name__, url_prefix="/events/deliveries")


@bp.get("/")
def index():
    parsed = ledger.parse_filter(request.args)
    if parsed.errors and wants_fragment():
        response = htmx_response(render_template("deliveries/_filter_errors.html", parsed=parsed,
                                                 filter_fields=ledger.FIELDS),
                                 reswap="none", push_url=False)
    elif wants_fragment():
        response = htmx_response(_render(parsed), push_url=_pushed_url(parsed))
    else:
        response = current_app.make_response((_render(parsed), 400 if parsed.errors else 200))
    response.vary.add("HX-Request")
    return response


@bp.post("/retry")
def retry():
    """Retry one delivery (`retry=<id>`), the checked ones (`retry=selected`, `ids`) or all
    that match the filter sent along in the form (`retry=matching`)."""
    parsed = ledger.parse_filter(request.form)
    if parsed.errors:
        abort(400, "The filter sent with Retry is not valid; reload the page and try again.")
    choice = request.form.get("retry", "")
    if choice == "matching":
        queued = ledger.retry_matching(parsed.filter)
    else:
        queued = ledger.retry_selected(_chosen_ids(choice))
    db.session.commit()
    category, message = _retry_notice(choice, queued)
    if not wants_fragment():
        flash(message, category)
        return redirect(filter_url("deliveries.index", parsed.filter), 303)
    return _render(parsed, notice=(category, message))


@bp.app_template_filter("due")
def due(value: datetime | None) -> str:
    """When the next attempt is due ("in 25 s", "due now"), in the units Logs uses for ago."""
    if value is None:
        return "—"
    now = utcnow()
    if value <= now:
        return "due now"
    return "in " + time_ago(now - (value - now), now).removesuffix(" ago").replace(
        "just now", "a few seconds")


def _render(parsed: ParsedDeliveryFilter, notice: tuple[str, str] | None = None) -> str:
    """The results fragment for htmx, the whole page otherwise; a bad page link shows the
    newest page with a message. Retry's form carries the page it was on (`before`)."""
    error = None
    try:
        cursor = ledger.parse_cursor(request.values.get("before"))
    except BadQuery as exc:
        error, cursor = str(exc), None
    context = {
        "parsed": parsed, "filters": parsed.filter, "filter_fields": ledger.FIELDS,
        "cursor": cursor, "error": error,
        "notice": notice, "counts": ledger.status_counts(parsed.filter),
        "page": ledger.delivery_page(parsed.filter, cursor, current_app.config["PAGE_SIZE"]),
    }
    if wants_fragment():
        return render_template("deliveries/_results.html", **context)
    return render_template("deliveries/index.html", **context,
                           transports=_names(NotificationTransport),
                           rules=_names(NotificationRule))


def _pushed_url(parsed: ParsedDeliveryFilter) -> str | None:
    """The address bar shows the filter without the form's empty fields; the page's own
    refreshes (triggered by #delivery-results) leave it alone."""
    if htmx.trigger == "delivery-results":
        return None
    return filter_url("deliveries.index", parsed.filter, before=request.args.get("before"))


def _names(model: type[NotificationTransport] | type[NotificationRule]) -> list[tuple[int, str]]:
    """The filter's choices: (id, name) by name."""
    return [(row.id, row.name) for row in db.session.execute(
        db.select(model.id, model.name).order_by(model.name))]


def _chosen_ids(choice: str) -> list[int]:
    texts = request.form.getlist("ids") if choice == "selected" else [choice]
    if len(texts) > ledger.MAX_SELECTED or not all(
            text.isdigit() and len(text) < 19 for text in texts):
        abort(400, "Pick deliveries from the list to retry.")
    return [int(text) for text in texts]


def _retry_notice(choice: str, queued: int) -> tuple[str, str]:
    if queued:
        noun = "delivery" if queued == 1 else "deliveries"
        return "success", f"Queued {queued:,} {noun} again; they are sent within seconds."
    if choice == "selected" and not request.form.getlist("ids"):
        return "warning", "Check the failed or dead deliveries to retry first."
    return "info", "Nothing to retry: only failed or dead deliveries are retried."
