"""authentik's event query parameters as SQL conditions on Herald's indexed columns.

The shared EventFilter (webapp/events/filters.py) answers the parameters it knows (exact
actions, username, client IP or CIDR, the model reference, full-text search); the few that
only the API has are a registry of small condition builders. A value that cannot be a filter
(a bad CIDR, unsearchable text) is a 400 naming its parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort

from webapp.api.pagination import Keyset
from webapp.api.schemas import EventQuery
from webapp.api.spec import json_response
from webapp.events.errors import BadQuery
from webapp.events.filters import EventFilter
from webapp.events.ip_match import IPMatchError, parse_ip_or_network
from webapp.events.search import parse_search
from webapp.models import Event

#: Parameters only the API has: name -> condition on that value.
EXTRA_CONDITIONS: dict[str, Callable[[str], sa.ColumnElement[bool]]] = {
    "action": lambda text: Event.action.contains(text, autoescape=True),
    "context_authorized_app": lambda pk: (
        Event.context["authorized_application"]["pk"].as_string() == pk.replace("-", "")),
    "brand_name": lambda name: Event.brand["name"].as_string() == name,
}
#: `ordering` -> the columns it sorts by; the event's key breaks ties, so pages are stable.
ORDERINGS: dict[str, tuple[Any, ...]] = {
    name: (column, Event.created, Event.event_uuid)
    for name, column in (("action", Event.action), ("app", Event.app),
                         ("client_ip", Event.client_ip), ("username", Event.username))
} | {"created": (Event.created, Event.event_uuid)}


def shared_filter(query: EventQuery) -> EventFilter:
    """The parameters EventFilter already answers, checked as its own parser checks them."""
    try:
        return EventFilter(
            actions=tuple(query.actions),
            username=query.username or "",
            client_ip=parse_ip_or_network(query.client_ip) if query.client_ip else None,
            model_app=query.context_model_app or "",
            model_name=query.context_model_name or "",
            model_pk=(query.context_model_pk or "").replace("-", ""),
            q=_searchable(query.search or ""),
        )
    except IPMatchError as exc:
        abort(json_response({"client_ip": [str(exc)]}, 400))
    except BadQuery as exc:
        abort(json_response({"search": [str(exc)]}, 400))


def event_conditions(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    conditions = shared_filter(query).conditions()
    for name, condition in EXTRA_CONDITIONS.items():
        value = getattr(query, name)
        if value:
            conditions.append(condition(value))
    return conditions


def event_order(ordering: str) -> list[sa.ColumnElement[Any]]:
    descending = ordering.startswith("-")
    columns = ORDERINGS[ordering.lstrip("-")]
    return [column.desc() if descending else column.asc() for column in columns]


def event_keyset(ordering: str) -> Keyset | None:
    """Only the time orderings can resume a walk: the others sort nullable columns."""
    if ordering.lstrip("-") != "created":
        return None
    return Keyset(ORDERINGS["created"], descending=ordering.startswith("-"))


def _searchable(text: str) -> str:
    if text:
        parse_search(text)  # raises BadQuery for text that cannot be searched
    return text
