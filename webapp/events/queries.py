"""Reading events: keyset pages, bounded counts and the live tail, fast on millions of rows.

Paging uses the (created, event_uuid) index with a cursor instead of OFFSET, whose cost grows
with every page skipped. Counts stop at a cap unless asked for the exact figure, so a page
never counts the whole table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.events.errors import BadQuery
from webapp.events.filters import EventFilter
from webapp.events.sanitize import iso_utc
from webapp.events.search import count_matches
from webapp.models import Event

__all__ = ["BadQuery", "EventCount", "EventFilter", "EventPage", "count_events", "event_page",
           "events_after", "get_event", "latest_events"]
COUNT_CAP = 10_000
TAIL_LIMIT = 100
NEWEST_FIRST = (Event.created.desc(), Event.event_uuid.desc())


@dataclass
class EventPage:
    events: list[Event]
    next_cursor: str | None
    filters: EventFilter = field(default_factory=EventFilter)

    @property
    def newest_cursor(self) -> str:
        """Where the live tail starts: the newest row shown, or now for an empty page."""
        if self.events:
            return encode_cursor(self.events[0])
        return f"{iso_utc(datetime.now(UTC))}_{uuid.UUID(int=0).hex}"


@dataclass(frozen=True)
class EventCount:
    value: int
    capped: bool  # True: there are more than `value`


def latest_events(limit: int = 10) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).order_by(*NEWEST_FIRST).limit(limit)))


def event_page(filters: EventFilter, cursor: str | None, size: int) -> EventPage:
    """A page of events, newest first. The page's keys are chosen first and the rows fetched
    after: a filter answered by an index range (a CIDR, a place) then sorts only keys, never
    every matching row with its JSON, which matters when thousands match.

    The cursor's condition comes before the filter's: SQLite bounds its index scan by the
    first upper bound on `created` it meets, and a custom range's `until` met first would
    make every deeper page walk all the pages above it again."""
    keys = sa.select(Event.event_uuid)
    if cursor:
        keys = keys.where(_key() < decode_cursor(cursor))
    keys = filters.apply(keys).order_by(*NEWEST_FIRST).limit(size + 1)
    query = sa.select(Event).where(Event.event_uuid.in_(keys.scalar_subquery()))
    rows = list(db.session.scalars(query.order_by(*NEWEST_FIRST)))
    next_cursor = encode_cursor(rows[size - 1]) if len(rows) > size else None
    return EventPage(events=rows[:size], next_cursor=next_cursor, filters=filters)


def events_after(filters: EventFilter, cursor: str) -> list[Event]:
    """The live tail: events newer than the newest one on screen, newest first, bounded."""
    query = filters.apply(sa.select(Event)).where(_key() > decode_cursor(cursor))
    return list(db.session.scalars(query.order_by(*NEWEST_FIRST).limit(TAIL_LIMIT)))


def count_events(filters: EventFilter, cap: int | None = COUNT_CAP) -> EventCount:
    """How many events match, counting at most `cap + 1` rows (None: the exact figure)."""
    total = count_matches(filters.q, cap) if filters.only_search else None
    if total is None:
        total = _count_rows(filters, cap)
    if cap is not None and total > cap:
        return EventCount(cap, capped=True)
    return EventCount(total, capped=False)


def _count_rows(filters: EventFilter, cap: int | None) -> int:
    matching = filters.apply(sa.select(sa.literal(1)).select_from(Event))
    if cap is not None:
        matching = matching.limit(cap + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(matching.subquery())) or 0


def _key() -> sa.Tuple:
    return sa.tuple_(Event.created, Event.event_uuid)


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
