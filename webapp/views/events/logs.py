"""Events > Logs: filters in the URL, keyset pages, bounded counts and the live tail.

htmx requests get fragments: the table for a good filter, or only the inline field errors for
a bad one (the table keeps its last good state and the URL is not pushed). A plain request,
a reload or a shared link gets the whole page, the same view.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_htmx import make_response as htmx_response

from webapp.events.filters import KNOWN_ACTIONS, PERIOD_LABELS, ParsedFilters, parse_filters
from webapp.events.queries import (
    BadQuery,
    count_events,
    encode_cursor,
    event_page,
    events_after,
)
from webapp.extensions import htmx
from webapp.reports.palette import grouped
from webapp.views.events import bp

FILTER_FIELDS = ("action", "q", "period", "since", "until", "username", "client_ip", "app",
                 "country", "city", "model_app", "model_name", "model_pk")


@bp.get("/")
def index():
    parsed = parse_filters(request.args)
    if _wants_fragment() and parsed.errors:
        response = htmx_response(render_template("events/_filter_errors.html", parsed=parsed,
                                                 filter_fields=FILTER_FIELDS),
                                 reswap="none", push_url=False)
    else:
        response = current_app.make_response(_render_logs(parsed))
    response.vary.add("HX-Request")
    return response


@bp.get("/count")
def exact_count():
    """The exact number of matching events, on demand (it may scan many rows)."""
    parsed = parse_filters(request.args)
    return render_template("events/_count.html", count=count_events(parsed.filter, cap=None),
                           filters=parsed.filter, start=_number("start", 1),
                           shown=_number("shown", 0))


@bp.get("/tail")
def tail():
    """New events for the live tail, or 204 (htmx swaps nothing) when there are none."""
    parsed = parse_filters(request.args)
    try:
        events = events_after(parsed.filter, request.args.get("after", ""))
    except BadQuery:
        events = []
    if not events:
        return "", 204
    return render_template("events/_tail.html", events=events, filters=parsed.filter,
                           cursor=encode_cursor(events[0]))


def _render_logs(parsed: ParsedFilters) -> str:
    size = current_app.config["PAGE_SIZE"]
    error = None
    cursor = request.args.get("before")
    try:
        page = event_page(parsed.filter, cursor, size)
    except BadQuery as exc:
        error, cursor = str(exc), None
        page = event_page(parsed.filter, None, size)
    start = _number("start", 1) if cursor else 1
    template = "events/_results.html" if _wants_fragment() else "events/index.html"
    return render_template(template, page=page, parsed=parsed, error=error, start=start,
                           count=count_events(parsed.filter), on_first_page=cursor is None,
                           action_groups=_action_groups(parsed), periods=PERIOD_LABELS,
                           filter_fields=FILTER_FIELDS)


def _action_groups(parsed: ParsedFilters) -> dict[str, list[str]]:
    """The picker's actions: every known one, plus custom ones named in the URL."""
    custom = [action for action in parsed.typed["action"] if action not in KNOWN_ACTIONS]
    return grouped([*KNOWN_ACTIONS, *dict.fromkeys(custom)])


def _wants_fragment() -> bool:
    return bool(htmx) and not htmx.history_restore_request


def _number(name: str, default: int) -> int:
    """A display number from the URL: where this page starts (a keyset page has no offset,
    so the Older link carries it) or how many rows it shows."""
    text = request.args.get(name, "")
    return int(text) if text.isdigit() and len(text) < 10 else default
