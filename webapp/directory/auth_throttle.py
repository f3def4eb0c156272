"""Slow down password guessing: too many recent failures for an account or an IP are refused.

The failures are the login_failed events themselves, so the limit holds across every process
that shares the database and needs no table of its own.

A failure is counted against the account the typed name resolves to, not against the text
typed: an account can be addressed by its username or its email in any case, so counting per
typed name would give a guesser a fresh allowance for each spelling. A name that resolves to
no account is counted as typed.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event, EventAction, User


def seconds_until_allowed(typed: str, account: User | None, client_ip: str | None) -> int:
    """0 when a sign-in attempt may proceed, else how long to wait. `account` is the user
    `typed` resolves to (by username or email), or None."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    now = utcnow()
    recent = sa.and_(Event.action == EventAction.LOGIN_FAILED, Event.created >= now - window)
    waits = [
        _wait(recent, sa.func.lower(Event.username).in_(_names(typed, account)),
              config["LOGIN_MAX_FAILURES_PER_USERNAME"], window, now),
    ]
    if client_ip:
        waits.append(_wait(recent, Event.client_ip == client_ip,
                           config["LOGIN_MAX_FAILURES_PER_IP"], window, now))
    return max(waits)


def _names(typed: str, account: User | None) -> set[str]:
    """Every name a failed sign-in for this account was recorded under (lower case)."""
    names = {typed.strip().lower()}
    if account is not None:
        names |= {name.lower() for name in (account.username, account.email) if name}
    return names


def _wait(recent, match, limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until the failure that tipped the count over `limit` leaves the window."""
    times = db.session.scalars(
        sa.select(Event.created).where(recent, match).order_by(Event.created.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))
