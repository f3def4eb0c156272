"""Events > Logs: the event list with filters and keyset paging."""

from __future__ import annotations

from flask import current_app, render_template, request

from webapp.events.queries import BadQuery, EventFilter, event_page
from webapp.extensions import htmx
from webapp.models import EventAction
from webapp.views.events import bp

MAX_FILTER_LENGTH = 255


@bp.get("/")
def index():
    filters = EventFilter(**{name: _arg(name) for name in ("action", "username", "client_ip")})
    error = None
    try:
        page = event_page(filters, request.args.get("before"), current_app.config["PAGE_SIZE"])
    except BadQuery as exc:
        error = str(exc)
        page = event_page(filters, None, current_app.config["PAGE_SIZE"])
    template = "events/_table.html" if htmx and not htmx.history_restore_request else \
        "events/index.html"
    response = current_app.make_response(render_template(
        template, page=page, error=error, actions=[a.value for a in EventAction
                                                   if a is not EventAction.CUSTOM_PREFIX]))
    response.vary.add("HX-Request")
    return response


def _arg(name: str) -> str:
    return request.args.get(name, "").strip()[:MAX_FILTER_LENGTH]
