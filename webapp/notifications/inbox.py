"""A user's bell: what is unread, marking read, and the history.

Every function takes the user's id and filters on it, so a caller can never reach another
user's notifications by passing a uuid. Callers commit; nothing here does.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Notification


def _unread_of(user_id: int) -> sa.ColumnElement[bool]:
    """`seen = false` rather than `IS false`, which PostgreSQL cannot look up in an index."""
    return sa.and_(Notification.user_id == user_id, Notification.seen == sa.false())


def unread_count(user_id: int) -> int:
    """The badge's figure: one COUNT answered from the (user_id, seen, created) index alone,
    since every open tab asks for it every few seconds."""
    query = sa.select(sa.func.count()).select_from(Notification).where(_unread_of(user_id))
    return db.session.scalar(query) or 0


def unread(user_id: int, limit: int) -> list[Notification]:
    """The newest unread notifications, for the drawer."""
    query = (sa.select(Notification).where(_unread_of(user_id))
             .order_by(Notification.created.desc(), Notification.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def mark_read(user_id: int, notification_uuid: uuid.UUID) -> bool:
    """Mark one of the user's notifications read; False when the user has no such
    notification. Marking a read one again keeps its first seen_at."""
    mine = sa.and_(Notification.uuid == notification_uuid, Notification.user_id == user_id)
    changed = db.session.execute(
        sa.update(Notification).where(mine, Notification.seen == sa.false())
        .values(seen=True, seen_at=utcnow())).rowcount
    return changed > 0 or bool(db.session.scalar(sa.select(sa.exists().where(mine))))


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; how many there were."""
    return db.session.execute(
        sa.update(Notification).where(_unread_of(user_id))
        .values(seen=True, seen_at=utcnow())).rowcount


def history(user_id: int, *, seen: bool | None = None, severity: str | None = None,
            page: int = 1, per_page: int = 50) -> Pagination:
    """The user's notifications, newest first, optionally only read/unread or one severity."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if seen is not None:
        query = query.where(Notification.seen == seen)
    if severity is not None:
        query = query.where(Notification.severity == severity)
    query = query.order_by(Notification.created.desc(), Notification.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
