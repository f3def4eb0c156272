"""Bulk work on the events table, always in bounded batches so no transaction grows huge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event

BATCH_SIZE = 5_000
Progress = Callable[[int, int], None]


def delete_expired(batch_size: int = BATCH_SIZE) -> int:
    """Delete events whose expiry has passed, one committed batch at a time, so no reader
    ever waits on one long transaction. Each batch is one statement that finds its rows
    through the expires index itself: no ids travel to Python and back."""
    batch = (sa.select(Event.event_uuid).where(Event.expires <= utcnow())
             .limit(batch_size).scalar_subquery())
    statement = (sa.delete(Event).where(Event.event_uuid.in_(batch))
                 .execution_options(synchronize_session=False))
    deleted = 0
    while True:
        removed = db.session.execute(statement).rowcount
        db.session.commit()
        deleted += removed
        if removed < batch_size:  # a short batch was the last of them
            return deleted


def reapply_retention(retention: timedelta, progress: Progress | None = None,
                      batch_size: int = BATCH_SIZE) -> int:
    """Set every existing event's expiry to created + retention, walking the created index."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Event)) or 0
    done, cursor = 0, None
    while True:
        query = sa.select(Event.event_uuid, Event.created).order_by(Event.created, Event.event_uuid)
        if cursor is not None:
            query = query.where(sa.tuple_(Event.created, Event.event_uuid) > cursor)
        rows = db.session.execute(query.limit(batch_size)).all()
        if not rows:
            return done
        db.session.execute(sa.update(Event), [
            {"event_uuid": event_uuid, "expires": created + retention}
            for event_uuid, created in rows
        ])
        db.session.commit()
        done += len(rows)
        cursor = (rows[-1].created, rows[-1].event_uuid)
        if progress:
            progress(done, max(total, done))
