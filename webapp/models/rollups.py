"""Hourly roll-ups of events, so the Overview never scans a day of events per page load.

One `EventRollupHour` row says "this closed hour has been counted" (and how many events it had
then, which is how a later check notices that the hour changed); its `EventRollup` rows hold the
counts: per action (`dimension` "action", `value` ""), per (action, username) and per
(action, client_ip). An hour with no events still gets its `EventRollupHour` row, so it is never
counted again. See webapp/events/rollups.py for how they are filled and kept right.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db_types import UTCDateTime, utcnow
from webapp.core.extensions import db


class RollupDimension(StrEnum):
    """What an `EventRollup` row counts events by, besides their hour and action."""

    ACTION = "action"  # the action's total; value is ""
    USERNAME = "username"
    CLIENT_IP = "client_ip"


class EventRollupHour(db.Model):
    """A closed hour that has been rolled up, with its event total at that moment."""

    __tablename__ = "event_rollup_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # start, UTC
    events: Mapped[int] = mapped_column(sa.Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRollup(db.Model):
    """How many events of one action (and one username or client IP) one hour had."""

    __tablename__ = "event_rollups"
    # The primary key leads with what the Overview asks for ("failed logins by client IP over
    # these hours"), so each of its questions is one range of this index.
    __table_args__ = (sa.Index("ix_event_rollups_hour", "hour"),)

    dimension: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    hour: Mapped[datetime] = mapped_column(
        UTCDateTime, sa.ForeignKey("event_rollup_hours.hour", ondelete="CASCADE"),
        primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)
