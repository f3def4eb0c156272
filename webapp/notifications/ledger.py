"""The delivery ledger: which deliveries to show, how many there are per status, and Retry.

A filter comes from a query string or a form and names its bad fields instead of failing:
a field that cannot be a filter is reported and left out, the others still apply (the page
shows the message next to the field). Retrying every delivery that matches refuses such a
filter outright, since leaving a field out widens it.

Pages are newest first by id: ids are handed out in the order deliveries are created, so the
primary key's index serves every page and a page link is a plain id cursor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from webapp.core.extensions import db
from webapp.events.errors import BadQuery
from webapp.events.filters import QueryArgs, parse_filters
from webapp.models import (
    Delivery,
    DeliveryStatus,
    Event,
    NotificationRule,
    NotificationTransport,
)
from webapp.notifications.delivery import retry

STATUSES = tuple(status.value for status in DeliveryStatus)
RETRYABLE = (DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value)
#: Statuses that will change without anyone doing anything (the page refreshes meanwhile).
IN_FLIGHT = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value,
             DeliveryStatus.FAILED.value)
FIELDS = ("status", "transport", "rule", "event", "since", "until")
MAX_TEXT = 255
#: Rows loaded and re-queued at a time by "retry all": memory stays flat however many match.
RETRY_CHUNK = 500
MAX_SELECTED = 500


@dataclass(frozen=True)
class DeliveryFilter:
    """What the ledger shows; `until` is exclusive (a date-only value means the end of it)."""

    status: str = ""
    transport_id: int | None = None
    rule_id: int | None = None
    event_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: The query-string text of each active field, for links that keep the view.
    source: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found = [column == value for column, value in (
            (Delivery.status, self.status), (Delivery.transport_id, self.transport_id),
            (Delivery.rule_id, self.rule_id), (Delivery.event_id, self.event_id))
            if value not in (None, "")]
        if self.since is not None:
            found.append(Delivery.created >= self.since)
        if self.until is not None:
            found.append(Delivery.created < self.until)
        return found

    def with_status(self, status: str) -> DeliveryFilter:
        """The same view on one status tab ("" for all of them)."""
        others = tuple(pair for pair in self.source if pair[0] != "status")
        return replace(self, status=status,
                       source=((("status", status),) if status else ()) + others)

    def query_args(self, **extra: Any) -> list[tuple[str, str]]:
        """The filter as query-string pairs (plus `extra`), for links and hidden fields."""
        pairs = list(self.source)
        pairs += [(key, str(value)) for key, value in extra.items() if value not in (None, "")]
        return pairs

    @property
    def active(self) -> bool:
        return bool(self.source)


@dataclass(frozen=True)
class ParsedDeliveryFilter:
    """The usable filter, the text to show back in each field, and per-field errors."""

    filter: DeliveryFilter
    typed: Mapping[str, str]
    errors: Mapping[str, str]


@dataclass(frozen=True)
class StatusCounts:
    """Deliveries per status under a filter's other fields: the tabs' figures."""

    by_status: Mapping[str, int]
    status: str  # the filter's own status, "" for all

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def retryable(self) -> int:
        """How many the filter (its status included) shows that Retry would queue again."""
        return sum(self.by_status[status] for status in self._shown(RETRYABLE))

    @property
    def in_flight(self) -> bool:
        """Whether any delivery shown may still change on its own."""
        return any(self.by_status[status] for status in self._shown(IN_FLIGHT))

    def _shown(self, statuses: Iterable[str]) -> list[str]:
        return [status for status in statuses if not self.status or status == self.status]


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    events: Mapping[uuid.UUID, Event]  # the events still stored, by id
    next_cursor: int | None


def parse_filter(args: QueryArgs) -> ParsedDeliveryFilter:
    """Each field parsed on its own; the date range exactly as the event filters read it."""
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    source: list[tuple[str, str]] = []
    for name, (attribute, parse) in _PARSERS.items():
        typed[name] = text = args.get(name, "").strip()[:MAX_TEXT]
        if not text:
            continue
        try:
            values[attribute], typed[name] = parse(text)
        except BadQuery as exc:
            errors[name] = str(exc)
            continue
        source.append((name, typed[name]))
    window = parse_filters(MultiDict([(name, args.get(name, "")) for name in ("since", "until")]))
    values.update(since=window.filter.since, until=window.filter.until)
    typed.update(since=window.typed["since"], until=window.typed["until"])
    errors.update(window.errors)
    source += window.filter.source
    return ParsedDeliveryFilter(DeliveryFilter(**values, source=tuple(source)), typed, errors)


def _status(text: str) -> tuple[str, str]:
    if text not in STATUSES:
        raise BadQuery("Pick a status: queued, sending, sent, failed or dead.")
    return text, text


def _by_id_or_uuid(model: type[NotificationTransport] | type[NotificationRule],
                   noun: str) -> Callable[[str], tuple[int, str]]:
    """A parser that finds a transport or rule by its number or its UUID (the API's pk)."""
    def parse(text: str) -> tuple[int, str]:
        found = None
        if text.isdigit() and len(text) < 10:
            found = db.session.scalar(sa.select(model.id).where(model.id == int(text)))
        elif (key := _uuid(text)) is not None:
            found = db.session.scalar(sa.select(model.id).where(model.uuid == key))
        if found is None:
            raise BadQuery(f"No {noun} has the id “{text[:40]}”; pick one from the list.")
        return found, str(found)
    return parse


def _event(text: str) -> tuple[uuid.UUID, str]:
    key = _uuid(text)
    if key is None:
        raise BadQuery(f"“{text[:40]}” is not an event id; event ids look like "
                       "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f.")
    return key, str(key)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


_PARSERS: dict[str, tuple[str, Callable[[str], tuple[Any, str]]]] = {
    "status": ("status", _status),
    "transport": ("transport_id", _by_id_or_uuid(NotificationTransport, "transport")),
    "rule": ("rule_id", _by_id_or_uuid(NotificationRule, "notification rule")),
    "event": ("event_id", _event),
}


def parse_cursor(text: str | None) -> int | None:
    """A page link's cursor (the last id of the page before); None for the newest page."""
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise BadQuery("That page link is not valid any more; showing the newest deliveries.")
    return int(text)


def delivery_page(filters: DeliveryFilter, before: int | None, size: int) -> DeliveryPage:
    """A page of deliveries, newest first, with their transports, rules, recipients and
    the events they are about (loaded in one query each, never one per row)."""
    query = sa.select(Delivery).where(*filters.conditions())
    if before is not None:
        query = query.where(Delivery.id < before)
    rows = list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(size + 1).options(
        selectinload(Delivery.transport), selectinload(Delivery.rule),
        selectinload(Delivery.recipient))))
    shown = rows[:size]
    event_ids = {row.event_id for row in shown if row.event_id is not None}
    events = {event.event_uuid: event for event in db.session.scalars(
        sa.select(Event).where(Event.event_uuid.in_(event_ids)))} if event_ids else {}
    return DeliveryPage(shown, events, shown[-1].id if len(rows) > size else None)


def status_counts(filters: DeliveryFilter) -> StatusCounts:
    """One grouped count under every field but the status, so each tab shows its figure."""
    unfiltered = filters.with_status("")
    rows = db.session.execute(
        sa.select(Delivery.status, sa.func.count()).where(*unfiltered.conditions())
        .group_by(Delivery.status)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: total for status, total in rows if status in counts})
    return StatusCounts(counts, filters.status)


def count_for_event(event_id: uuid.UUID) -> int:
    """How many deliveries one event caused (the event page links to them)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)
                             .where(Delivery.event_id == event_id)) or 0


def retry_selected(ids: Sequence[int]) -> int:
    """Queue these deliveries again if they failed or died; others are left as they are.
    Returns how many were queued; the caller commits."""
    if not ids:
        return 0
    return _retry_where(Delivery.id.in_(ids[:MAX_SELECTED]))


def retry_matching(filters: DeliveryFilter) -> int:
    """Queue again every failed or dead delivery the filter shows. The caller commits."""
    return _retry_where(*filters.conditions())


def _retry_where(*conditions: sa.ColumnElement[bool]) -> int:
    """Re-queue in chunks, flushed as they go, so memory stays flat however many match. Each
    row is locked as it is loaded and its status read again: a row a scheduler claimed
    meanwhile is no longer failed or dead and is left alone."""
    ids = db.session.scalars(sa.select(Delivery.id).where(
        *conditions, Delivery.status.in_(RETRYABLE)).order_by(Delivery.id)).all()
    queued = 0
    for start in range(0, len(ids), RETRY_CHUNK):
        chunk = db.session.scalars(sa.select(Delivery).where(
            Delivery.id.in_(ids[start:start + RETRY_CHUNK])).with_for_update()
            .execution_options(populate_existing=True)).all()
        queued += retry(chunk)
        db.session.flush()
    return queued
