"""Events related to one event: its request, its user's neighbourhood, its object's history.

Like NetBox's "related changes", these answer "what else happened here?" from an event's page.
Each list is one bounded query on an index the events table already has (request_id;
(user_pk | username, created, event_uuid); (model_pk, created, event_uuid)), so the page
costs the same at a million events as at a hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from webapp.core.extensions import db
from webapp.models import Event

LIMIT = 20
WINDOW = timedelta(minutes=10)
UNITS = ((86_400, "day", "days"), (3_600, "h", "h"), (60, "min", "min"), (1, "s", "s"))


@dataclass(frozen=True)
class Neighbour:
    """A related event and how long before or after the event in question it happened."""

    event: Event
    offset: str
    who: str


@dataclass(frozen=True)
class ObjectHistory:
    """The previous and next change of the same object, and the Logs filter for all of them."""

    previous: Neighbour | None
    next: Neighbour | None
    filters: dict[str, str]


@dataclass(frozen=True)
class Related:
    """None means "this event has no request / user / object to relate by"."""

    same_request: list[Neighbour] | None
    same_user: list[Neighbour] | None
    history: ObjectHistory | None
    limit: int = LIMIT


def related_events(event: Event, limit: int = LIMIT) -> Related:
    return Related(same_request=same_request(event, limit), same_user=same_user(event, limit),
                   history=object_history(event), limit=limit)


def same_request(event: Event, limit: int = LIMIT) -> list[Neighbour] | None:
    """The other events recorded while serving the same request, in order."""
    if not event.request_id:
        return None
    query = (sa.select(Event)
             .where(Event.request_id == event.request_id, Event.event_uuid != event.event_uuid)
             .order_by(Event.created, Event.event_uuid).limit(limit))
    return _neighbours(event, db.session.scalars(query))


def same_user(event: Event, limit: int = LIMIT) -> list[Neighbour] | None:
    """The user's other events within WINDOW either side, the `limit` closest in time.

    By pk when the event has one; otherwise by username, so a failed sign-in meets the other
    attempts at that username (and the real user's own events)."""
    who = _user_condition(event)
    if who is None:
        return None
    key = sa.tuple_(Event.created, Event.event_uuid)
    here = (event.created, event.event_uuid)
    before = (sa.select(Event).where(who, key < here, Event.created >= event.created - WINDOW)
              .order_by(Event.created.desc(), Event.event_uuid.desc()).limit(limit))
    after = (sa.select(Event).where(who, key > here, Event.created <= event.created + WINDOW)
             .order_by(Event.created, Event.event_uuid).limit(limit))
    closest = sorted(_union(before, after),
                     key=lambda other: abs(other.created - event.created))[:limit]
    return _neighbours(event, sorted(closest, key=_key))


def object_history(event: Event) -> ObjectHistory | None:
    """The change of the same object just before and just after this event."""
    if not event.model_pk:
        return None
    same_object = sa.and_(Event.model_pk == event.model_pk, Event.model_app == event.model_app,
                          Event.model_name == event.model_name)
    key = sa.tuple_(Event.created, Event.event_uuid)
    here = (event.created, event.event_uuid)
    previous = (sa.select(Event).where(same_object, key < here)
                .order_by(Event.created.desc(), Event.event_uuid.desc()).limit(1))
    following = (sa.select(Event).where(same_object, key > here)
                 .order_by(Event.created, Event.event_uuid).limit(1))
    rows = _union(previous, following)
    earlier = [_neighbour(event, other) for other in rows if _key(other) < _key(event)]
    later = [_neighbour(event, other) for other in rows if _key(other) > _key(event)]
    filters = {"model_app": event.model_app, "model_name": event.model_name,
               "model_pk": event.model_pk}
    return ObjectHistory(previous=earlier[0] if earlier else None,
                         next=later[0] if later else None,
                         filters={name: value for name, value in filters.items() if value})


def _user_condition(event: Event) -> sa.ColumnElement[bool] | None:
    if event.user_pk is not None:
        return Event.user_pk == event.user_pk
    if not event.username or event.username == _anonymous_name(event):
        return None  # "AnonymousUser" is everyone who was not signed in, not one person
    return Event.username == event.username


def _anonymous_name(event: Event) -> str | None:
    user = event.user if isinstance(event.user, dict) else {}
    return user.get("username") if user.get("is_anonymous") else None


def _key(event: Event) -> tuple:
    return event.created, event.event_uuid


def _union(*queries: sa.Select) -> list[Event]:
    """Several ordered, limited selects of events as one statement (one round trip)."""
    union = sa.union_all(*(sa.select(query.subquery()) for query in queries)).subquery()
    return list(db.session.scalars(sa.select(aliased(Event, union))))


def _neighbours(event: Event, others) -> list[Neighbour]:
    return [_neighbour(event, other) for other in others]


def _neighbour(event: Event, other: Event) -> Neighbour:
    return Neighbour(other, offset(other.created - event.created), who(other))


def who(event: Event) -> str:
    """The event's user as a related item names it: a failed sign-in says whom it tried."""
    user = event.user if isinstance(event.user, dict) else {}
    if user.get("is_system"):
        return "system"
    if user.get("is_anonymous"):
        tried = event.username if event.username != user.get("username") else None
        return f"anonymous, tried “{tried}”" if tried else "anonymous"
    return event.username or "—"


def offset(delta: timedelta) -> str:
    """ "3 min earlier", "12 s later", "2 days earlier", "same time"."""
    seconds = round(delta.total_seconds())
    if seconds == 0:
        return "same time"
    size = abs(seconds)
    length, one, many = next(unit for unit in UNITS if size >= unit[0])
    count = size // length
    return f"{count} {one if count == 1 else many} {'earlier' if seconds < 0 else 'later'}"
