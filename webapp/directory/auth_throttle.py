"""Slow down password guessing: too many recent failures for a username or an IP are refused.

The failures are the login_failed events themselves, so the limit holds across every process
that shares the database and needs no table of its own.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event, EventAction


def seconds_until_allowed(username: str, client_ip: str | None) -> int:
    """0 when a login attempt may proceed, else how long to wait."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    now = utcnow()
    recent = sa.and_(Event.action == EventAction.LOGIN_FAILED, Event.created >= now - window)
    waits = [
        _wait(recent, sa.func.lower(Event.username) == username.strip().lower(),
              config["LOGIN_MAX_FAILURES_PER_USERNAME"], window, now),
    ]
    if client_ip:
        waits.append(_wait(recent, Event.client_ip == client_ip,
                           config["LOGIN_MAX_FAILURES_PER_IP"], window, now))
    return max(waits)


def _wait(recent, match, limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until the failure that tipped the count over `limit` leaves the window."""
    times = db.session.scalars(
        sa.select(Event.created).where(recent, match).order_by(Event.created.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))
