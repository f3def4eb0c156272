"""Events > Logs: filters in the URL, keyset pages, bounded counts and the live tail.

htmx requests get fragments: the table for a good filter, or only the inline field errors for
a bad one (the table keeps its last good state and the URL is not pushed). A plain request,
a reload or a shared link gets the whole page, the same view.
"""

from __future__ import annotations

from flask import current_app, render_template, request

from webapp.events.filters import ParsedFilters, parse_filters
from webapp.events.queries import (
    COUNT_CAP,
    BadQuery,
    count_events,
    encode_cursor,
    event_page,
    events_after,
)
from webapp.reports.volume import volume_chart
from webapp.views.events import bp
from webapp.views.events.filtering import filtered_view, form_context


@bp.get("/")
def index():
    parsed = parse_filters(request.args)
    return filtered_view(parsed, lambda fragment: _render_logs(parsed, fragment))


@bp.get("/count")
def count():
    """How many events match, fetched after the table: bounded ("10,000+"), or with
    exact=1 the exact figure, which the reader asks for (it may read many rows)."""
    parsed = parse_filters(request.args)
    cap = None if request.args.get("exact") == "1" else COUNT_CAP
    return render_template("events/_count.html", count=count_events(parsed.filter, cap=cap),
                           filters=parsed.filter, start=_number("start", 1),
                           shown=_number("shown", 0))


@bp.get("/chart")
def chart():
    """The volume chart for the filter, fetched after the table so it never slows the page."""
    parsed = parse_filters(request.args)
    return render_template("reports/_volume_chart.html", chart=volume_chart(parsed.filter),
                           filters=parsed.filter, chart_endpoint="events.index")


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


def _render_logs(parsed: ParsedFilters, fragment: bool) -> str:
    size = current_app.config["PAGE_SIZE"]
    error = None
    cursor = request.args.get("before")
    try:
        page = event_page(parsed.filter, cursor, size)
    except BadQuery as exc:
        error, cursor = str(exc), None
        page = event_page(parsed.filter, None, size)
    start = _number("start", 1) if cursor else 1
    template = "events/_results.html" if fragment else "events/index.html"
    return render_template(template, page=page, error=error, start=start,
                           on_first_page=cursor is None, **form_context(parsed))


def _number(name: str, default: int) -> int:
    """A display number from the URL: where this page starts (a keyset page has no offset,
    so the Older link carries it) or how many rows it shows."""
    text = request.args.get(name, "")
    return int(text) if text.isdigit() and len(text) < 10 else default
