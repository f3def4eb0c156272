"""The life of a data export: asked for, streamed or written by a background task, expired.

`request_export` decides between the two ways with a bounded count against the stream limit
setting: up to the limit the caller streams `stream_export` straight to the browser; above it a
background task (webapp.system.background: a thread with a progress row, independent of the request)
writes the file under the export folder and records `export_ready`. Either way the export is a
DataExport row, created first; that row's `model_created` event (through the audit hooks, as
for every audited model) is the record of who exported which filter, as authentik records its
own DataExport. Rows and files expire after the export retention setting;
`delete_expired_exports` (a periodic job) removes both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.audit import audit_suppressed
from webapp.events.filters import EventFilter, parse_filters
from webapp.events.queries import count_events
from webapp.events.retention import stored_retention
from webapp.events.sanitize import model_reference
from webapp.models import (
    BackgroundTask,
    DataExport,
    Event,
    EventAction,
    ExportFormat,
    ExportStatus,
    Notification,
    Settings,
    Severity,
    User,
)
from webapp.models.system import DEFAULT_EXPORT_RETENTION, DEFAULT_EXPORT_STREAM_LIMIT
from webapp.reports.export import export_chunks, pin
from webapp.reports.filter_text import describe_filter
from webapp.system.background import abandon_if_stale, start_task

log = logging.getLogger("herald.reports")
TASK_KIND = "data_export"
#: Files this module wrote: `export-<id>.<format>` and, while being written, `.part`.
_OWN_FILE = re.compile(r"^export-\d+\.(csv|jsonl)(\.part)?$")
ORPHAN_AGE = timedelta(hours=1)

def request_export(filters: EventFilter, fmt: ExportFormat, *, excel: bool,
                   user: User) -> DataExport:
    """Create the export (and its audit event); start the background task when the filter
    matches more events than the stream limit. A streamed export is then read with
    `stream_export`."""
    limit, retention = export_settings()
    anchor = utcnow()
    background = count_events(pin(filters, anchor), cap=limit).capped
    export = DataExport(
        format=fmt.value, excel=excel and fmt == ExportFormat.CSV, background=background,
        filter_args=[list(pair) for pair in filters.query_args()],
        filter_text=describe_filter(filters, anchor), anchor=anchor,
        requested_by_id=user.id, requested_by=user.username,
        status=ExportStatus.RUNNING if background else ExportStatus.STREAMING,
        created=anchor, expires=anchor + retention)
    db.session.add(export)
    db.session.commit()
    if background:
        export_id = export.id
        task = start_task(TASK_KIND, lambda progress: write_export_file(export_id, progress))
        export.task_id = task.id
        db.session.commit()
    return export


def export_settings() -> tuple[int, timedelta]:
    """(stream limit, retention) from the settings row, defaults where it is unusable."""
    row = db.session.execute(
        sa.select(Settings.export_stream_limit, Settings.export_retention).limit(1)).first()
    limit, text = row if row is not None else (None, None)
    retention = stored_retention(text, DEFAULT_EXPORT_RETENTION)
    return (limit if limit and limit > 0 else DEFAULT_EXPORT_STREAM_LIMIT), retention


def stored_filter(export: DataExport) -> EventFilter:
    """The filter the export was asked for, fixed at the moment it was asked."""
    args = MultiDict([(str(key), str(value)) for key, value in export.filter_args])
    return pin(parse_filters(args).filter, export.anchor)


def stream_export(export_id: int) -> Iterator[bytes]:
    """The download of a streamed export; the row says afterwards how it went."""
    export = db.session.get(DataExport, export_id)
    fmt, excel, filters = ExportFormat(export.format), export.excel, stored_filter(export)
    rows, size, complete = 0, 0, False

    def count(done: int) -> None:
        nonlocal rows
        rows = done

    try:
        for data in export_chunks(filters, fmt, excel=excel, progress=count):
            size += len(data)
            yield data
        complete = True
    finally:
        _finish(export_id, rows=rows, size=size,
                status=ExportStatus.DOWNLOADED if complete else ExportStatus.INTERRUPTED)


def write_export_file(export_id: int, progress: Callable[[int, int], None]) -> str:
    """The background task's body: write the file, then mark it ready with export_ready."""
    export = db.session.get(DataExport, export_id)
    fmt, excel, filters = ExportFormat(export.format), export.excel, stored_filter(export)
    total = count_events(filters, cap=None).value
    target = export_folder() / f"export-{export_id}.{fmt.value}"
    partial = target.with_name(target.name + ".part")
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done = rows
        progress(rows, total)

    progress(0, total)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            for piece in export_chunks(filters, fmt, excel=excel, progress=advance):
                file.write(piece)
        partial.replace(target)
    except Exception as error:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        db.session.rollback()
        _finish(export_id, status=ExportStatus.FAILED, message=str(error)[:2000])
        raise
    return _publish(export_id, target, done)


def _publish(export_id: int, target: Path, rows: int) -> str:
    export = db.session.get(DataExport, export_id)
    if export is None:  # deleted while it was being written
        target.unlink(missing_ok=True)
        return "The export was deleted before it finished."
    size = target.stat().st_size
    export.status, export.rows, export.size = ExportStatus.READY, rows, size
    export.file_name, export.finished_at = target.name, utcnow()
    message = f"{export.name} is ready: {rows:,} events, {human_size(size)}."
    export.message = message
    requester = db.session.get(User, export.requested_by_id) if export.requested_by_id else None
    event = record(EventAction.EXPORT_READY, {"message": message,
                                              "export": model_reference(export),
                                              "rows": rows, "size": size},
                   user=requester, app="herald.reports")
    if requester is not None:
        _ring_the_bell(requester, export, event)
    db.session.commit()
    return message


def _ring_the_bell(requester: User, export: DataExport, event: Event) -> None:
    """Whoever asked hears at once that the file is ready, with a link to it (no rule
    needed: it answers their own request)."""
    db.session.add(Notification(
        severity=Severity.NOTICE.value, body=export.message, user_id=requester.id,
        hyperlink=f"/reports/{export.id}/download",  # a path: the task has no request
        hyperlink_label="Download", event_id=event.event_uuid))


def _finish(export_id: int, **values: Any) -> None:
    export = db.session.get(DataExport, export_id)
    if export is None:
        return
    for name, value in values.items():
        setattr(export, name, value)
    export.finished_at = utcnow()
    db.session.commit()


def refresh_status(export: DataExport) -> DataExport:
    """A background export whose process died is failed, not running forever."""
    if export.status != ExportStatus.RUNNING or export.task_id is None:
        return export
    task = db.session.get(BackgroundTask, export.task_id)
    if task is not None and (abandon_if_stale(task) or task.status == "error"):
        export.status, export.message = ExportStatus.FAILED, task.message
        db.session.commit()
    return export


def export_page(page: int, per_page: int):
    """One page of exports, newest first, running ones checked for a dead process."""
    query = sa.select(DataExport).order_by(DataExport.created.desc(), DataExport.id.desc())
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    pagination.items = [refresh_status(export) for export in pagination.items]
    return pagination


def task_of(export: DataExport) -> BackgroundTask | None:
    return db.session.get(BackgroundTask, export.task_id) if export.task_id else None


def file_path(export: DataExport) -> Path | None:
    """The export's file when it is ready and still there."""
    if export.status != ExportStatus.READY or not export.file_name:
        return None
    path = export_folder() / export.file_name
    return path if path.is_file() else None


def download_name(export: DataExport) -> str:
    suffix = "-excel" if export.excel else ""
    return f"herald-events-{export.anchor:%Y%m%d-%H%M%S}{suffix}.{export.format}"


def delete_export(export: DataExport) -> None:
    """Delete the row (a model_deleted event) and its file."""
    if export.file_name:
        (export_folder() / export.file_name).unlink(missing_ok=True)
    db.session.delete(export)
    db.session.commit()


def delete_expired_exports(now: datetime | None = None) -> str:
    """The periodic job: expired exports and their files go, like expired events, without an
    audit event each; files no row knows of (a crashed task's .part) go after an hour."""
    now = now or utcnow()
    expired = list(db.session.scalars(sa.select(DataExport).where(DataExport.expires <= now)))
    folder = export_folder()
    with audit_suppressed():
        for export in expired:
            if export.file_name:
                (folder / export.file_name).unlink(missing_ok=True)
            db.session.delete(export)
        db.session.commit()
    orphans = _delete_orphan_files(folder, now)
    return f"Deleted {len(expired)} expired exports and {orphans} orphaned files."


def _delete_orphan_files(folder: Path, now: datetime) -> int:
    if not folder.is_dir():
        return 0
    known = set(db.session.scalars(sa.select(DataExport.file_name).where(
        DataExport.file_name.is_not(None))))
    running = {f"export-{pk}" for pk in db.session.scalars(
        sa.select(DataExport.id).where(DataExport.status == ExportStatus.RUNNING))}
    deleted = 0
    for path in folder.iterdir():
        if not _OWN_FILE.match(path.name) or path.name in known:
            continue
        if path.name.split(".")[0] in running:
            continue
        if now.timestamp() - path.stat().st_mtime > ORPHAN_AGE.total_seconds():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def export_folder() -> Path:
    configured = current_app.config.get("EXPORT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
