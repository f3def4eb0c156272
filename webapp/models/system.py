"""Herald's own state: settings, the scheduler lease, job runs and long-running tasks."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db_types import UTCDateTime, utcnow
from webapp.core.extensions import db

DEFAULT_EVENT_RETENTION = "days=365"
#: Exports up to this many events stream at once; larger ones run in the background.
DEFAULT_EXPORT_STREAM_LIMIT = 100_000
DEFAULT_EXPORT_RETENTION = "days=7"
#: Seen notifications and finished deliveries (sent or dead) are kept this long.
DEFAULT_NOTIFICATION_RETENTION = "days=30"


class Settings(db.Model):
    """The single row of settings administrators change at run time."""

    __tablename__ = "settings"
    SINGLETON_ID = 1

    id: Mapped[int] = mapped_column(primary_key=True, default=SINGLETON_ID)
    event_retention: Mapped[str] = mapped_column(sa.String(200), default=DEFAULT_EVENT_RETENTION)
    export_stream_limit: Mapped[int] = mapped_column(default=DEFAULT_EXPORT_STREAM_LIMIT,
                                                     server_default=str(DEFAULT_EXPORT_STREAM_LIMIT))
    export_retention: Mapped[str] = mapped_column(sa.String(200), default=DEFAULT_EXPORT_RETENTION,
                                                  server_default=DEFAULT_EXPORT_RETENTION)
    notification_retention: Mapped[str] = mapped_column(
        sa.String(200), default=DEFAULT_NOTIFICATION_RETENTION,
        server_default=DEFAULT_NOTIFICATION_RETENTION)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def name(self) -> str:
        return "Settings"


class SchedulerLease(db.Model):
    """Who may run periodic jobs: one holder per database until its lease expires."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRun(db.Model):
    """The last run of each periodic job, for the Settings page."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20))  # running | ok | error
    message: Mapped[str] = mapped_column(sa.Text, default="")
    holder: Mapped[str] = mapped_column(sa.String(200), default="")


class BackgroundTask(db.Model):
    """A long one-off task (e.g. re-applying retention) whose progress the UI polls."""

    __tablename__ = "background_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="running")  # running|done|error
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0
