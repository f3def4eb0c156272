"""Data exports: one row per export an administrator asked for, streamed or written to a file.

Every export is a row, including the ones streamed straight to the browser, so the Reports page
is the history of who took which events away, and creating the row is the audit event
(`model_created`, as authentik records its DataExport). A background export's file lives under
the export folder until `expires`; the cleanup job then deletes the file and the row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db_types import PortableJSON, UTCDateTime, utcnow
from webapp.core.extensions import db


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class ExportStatus(StrEnum):
    """A streamed export goes streaming -> downloaded (or interrupted, when the browser went
    away); a background one goes running -> ready (or failed)."""

    STREAMING = "streaming"
    DOWNLOADED = "downloaded"
    INTERRUPTED = "interrupted"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class DataExport(db.Model):
    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(sa.String(10))
    excel: Mapped[bool] = mapped_column(default=False)
    background: Mapped[bool] = mapped_column(default=False)
    #: The filter as query-string pairs, re-parsed by the job, and as people read it.
    filter_args: Mapped[list[Any]] = mapped_column(PortableJSON, default=list)
    filter_text: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: "Now" when the export was asked for: a relative period ("last 24 hours") means the
    #: 24 hours before this instant, however late the job runs.
    anchor: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    requested_by: Mapped[str] = mapped_column(sa.String(255), default="")  # kept if deleted
    status: Mapped[str] = mapped_column(sa.String(20))
    rows: Mapped[int | None] = mapped_column()
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    file_name: Mapped[str | None] = mapped_column(sa.String(255))
    task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("background_tasks.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def name(self) -> str:
        """How the audit event and the page name this export."""
        kind = "JSON Lines" if self.format == ExportFormat.JSONL else "CSV"
        return f"{kind} export of {self.filter_text or 'all events'}"

    @property
    def extension(self) -> str:
        return self.format
