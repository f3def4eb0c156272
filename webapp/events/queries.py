"""Reading events: filters and keyset paging that stay fast on millions of rows.

Paging uses the (created, event_uuid) index with a cursor instead of OFFSET, whose cost grows
with every page skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from webapp.events.sanitize import iso_utc
from webapp.extensions import db
from webapp.models import Event


class BadQuery(ValueError):
    """A filter or cursor from the query string that cannot be used; the message says why."""


@dataclass(frozen=True)
class EventFilter:
    action: str = ""
    username: str = ""
    client_ip: str = ""

    def apply(self, query: sa.Select) -> sa.Select:
        if self.action:
            query = query.where(Event.action == self.action)
        if self.username:
            query = query.where(Event.username == self.username)
        if self.client_ip:
            query = query.where(Event.client_ip == self.client_ip)
        return query

    @property
    def active(self) -> bool:
        return any((self.action, self.username, self.client_ip))


@dataclass
class EventPage:
    events: list[Event]
    next_cursor: str | None
    filters: EventFilter = field(default_factory=EventFilter)


def latest_events(limit: int = 10) -> list[Event]:
    query = sa.select(Event).order_by(Event.created.desc(), Event.event_uuid.desc()).limit(limit)
    return list(db.session.scalars(query))


def event_page(filters: EventFilter, cursor: str | None, size: int) -> EventPage:
    query = filters.apply(sa.select(Event))
    if cursor:
        created, event_uuid = decode_cursor(cursor)
        query = query.where(sa.tuple_(Event.created, Event.event_uuid) < (created, event_uuid))
    query = query.order_by(Event.created.desc(), Event.event_uuid.desc()).limit(size + 1)
    rows = list(db.session.scalars(query))
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else None
    return EventPage(events=rows[:size], next_cursor=next_cursor, filters=filters)


def encode_cursor(event: Event) -> str:
    return f"{iso_utc(event.created)}_{event.event_uuid.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    stamp, _, hex_id = cursor.partition("_")
    try:
        created = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if created.tzinfo is None:
            raise ValueError("naive")
        return created.astimezone(UTC), uuid.UUID(hex=hex_id)
    except (ValueError, OverflowError) as exc:
        raise BadQuery("That page link is not valid any more; showing the newest events.") from exc


def get_event(event_id: str) -> Event | None:
    try:
        return db.session.get(Event, uuid.UUID(event_id))
    except ValueError:
        return None
