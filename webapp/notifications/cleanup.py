"""The notification cleanup job: what has been read or settled does not stay forever.

Seen notifications and settled deliveries (sent or dead) older than the notification
retention setting go; unread notifications and deliveries still in flight stay whatever
their age. Throttle marks go once their rule's window has passed, and rule statistics
after 32 days (the rules page shows 24 hours).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.retention import stored_retention
from webapp.models import (
    DEFAULT_NOTIFICATION_RETENTION,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationRule,
    RuleHourStats,
    Settings,
    ThrottleMark,
)

STATS_KEPT = timedelta(days=32)


def delete_settled() -> str:
    now = utcnow()
    cutoff = now - notification_retention()
    seen = _delete(sa.delete(Notification).where(Notification.seen.is_(True),
                                                 Notification.seen_at < cutoff))
    settled = _delete(sa.delete(Delivery).where(
        Delivery.status.in_((DeliveryStatus.SENT.value, DeliveryStatus.DEAD.value)),
        Delivery.updated < cutoff))
    for rule_id, minutes in db.session.execute(sa.select(NotificationRule.id,
                                                         NotificationRule.throttle_minutes)):
        _delete(sa.delete(ThrottleMark).where(
            ThrottleMark.rule_id == rule_id,
            ThrottleMark.last_sent_at < now - timedelta(minutes=minutes)))
    _delete(sa.delete(RuleHourStats).where(RuleHourStats.hour < now - STATS_KEPT))
    db.session.commit()
    if not seen and not settled:
        return ""
    return f"Deleted {seen} seen notifications and {settled} settled deliveries."


def notification_retention() -> timedelta:
    """The setting (seen notifications, settled deliveries)."""
    text = db.session.scalar(sa.select(Settings.notification_retention).limit(1))
    return stored_retention(text, DEFAULT_NOTIFICATION_RETENTION)


def _delete(statement: sa.Delete) -> int:
    return db.session.execute(statement).rowcount or 0
