"""The event outbox: every event inserted through the ORM waits here until it has been matched.

The outbox row is inserted by the same statement batch as its event, inside the event's
transaction, so an event that commits is always matched later, and one that rolls back
never is. Claiming deletes the rows in the matching transaction: if matching fails or the
process dies, the rollback puts them back; if it commits, they are gone, so each event is
matched exactly once. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several schedulers take
disjoint batches; SQLite has one writer, so its DELETE is already exclusive.

Bulk loads through Core (`flask demo`, benchmarks) skip the outbox on purpose: generated
history must not notify anyone. record_many() inserts through Core too, and so adds its
outbox rows itself with `enqueue_many`.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from webapp.core.bulk_insert import insert_rows
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event, EventOutbox


@sa.event.listens_for(Event, "after_insert")
def _enqueue(_mapper: Any, connection: sa.Connection, event: Event) -> None:
    connection.execute(sa.insert(EventOutbox).values(event_id=event.event_uuid,
                                                     created=utcnow()))


def enqueue_many(event_ids: list[uuid.UUID]) -> None:
    """Outbox rows for events inserted through Core (record_many), which fires no mapper
    events: one executemany in the current transaction, as `_enqueue` adds them one by one."""
    now = utcnow()
    insert_rows(db.session, EventOutbox.__table__,
                [{"event_id": event_id, "created": now} for event_id in event_ids])


def claim(limit: int) -> list[uuid.UUID]:
    """Delete up to `limit` of the oldest outbox rows in the current transaction; their event
    ids, oldest first. The caller commits after matching them (or rolls back to release)."""
    oldest = (sa.select(EventOutbox.id).order_by(EventOutbox.id).limit(limit)
              .with_for_update(skip_locked=True))
    rows = db.session.execute(
        sa.delete(EventOutbox).where(EventOutbox.id.in_(oldest.scalar_subquery()))
        .returning(EventOutbox.id, EventOutbox.event_id)).all()
    return [event_id for _id, event_id in sorted(rows)]


def pending() -> int:
    """Events still waiting to be matched (for the Settings page and the tests)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(EventOutbox)) or 0
