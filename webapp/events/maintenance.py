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
    """Delete events whose expiry has passed, one committed batch at a time."""
    now = utcnow()
    deleted = 0
    while True:
        ids = db.session.scalars(
            sa.select(Event.event_uuid).where(Event.expires <= now).limit(batch_size)
        ).all()
        if not ids:
            return deleted
        db.session.execute(sa.delete(Event).where(Event.event_uuid.in_(ids)))
        db.session.commit()
        deleted += len(ids)


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
