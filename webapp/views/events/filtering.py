"""What every filtered view of events (Logs, the Map) answers the same way.

A bad filter value from htmx gets only the inline messages (the view keeps its last good
state and the URL is not pushed); otherwise the view renders its fragment for htmx or its
whole page, with the context the shared filter form needs.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, render_template
from flask_htmx import make_response as htmx_response

from webapp.core.extensions import htmx
from webapp.events.filters import KNOWN_ACTIONS, PERIOD_LABELS, ParsedFilters
from webapp.reports.palette import grouped

FILTER_FIELDS = ("action", "q", "period", "since", "until", "username", "client_ip", "app",
                 "country", "city", "model_app", "model_name", "model_pk")


def filtered_view(parsed: ParsedFilters, render: Callable[[bool], str]) -> Response:
    """`render(fragment)` draws the view (its htmx fragment when `fragment`)."""
    if wants_fragment() and parsed.errors:
        response = htmx_response(render_template("events/_filter_errors.html", parsed=parsed,
                                                 filter_fields=FILTER_FIELDS),
                                 reswap="none", push_url=False)
    else:
        response = current_app.make_response(render(wants_fragment()))
    response.vary.add("HX-Request")
    return response


def form_context(parsed: ParsedFilters) -> dict:
    """What templates/events/_filters.html needs besides the endpoint and target."""
    return {"parsed": parsed, "action_groups": action_groups(parsed), "periods": PERIOD_LABELS,
            "filter_fields": FILTER_FIELDS}


def action_groups(parsed: ParsedFilters) -> dict[str, list[str]]:
    """The picker's actions: every known one, plus custom ones named in the URL."""
    custom = [action for action in parsed.typed["action"] if action not in KNOWN_ACTIONS]
    return grouped([*KNOWN_ACTIONS, *dict.fromkeys(custom)])


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.history_restore_request
