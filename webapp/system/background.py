"""One-off long tasks in a thread, with progress in a database row the browser can poll."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import acting_as, record
from webapp.models import BackgroundTask, EventAction

log = logging.getLogger("herald.tasks")
TaskBody = Callable[[Callable[[int, int], None]], str]
STALE_AFTER = timedelta(minutes=2)
_THREADS_KEY = "herald_task_threads"


def start_task(kind: str, body: TaskBody, *, wait: bool = False) -> BackgroundTask:
    """Create the task row, then run `body(progress)` in a thread. `wait` runs it inline."""
    task = BackgroundTask(kind=kind, status="running")
    db.session.add(task)
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if wait:
        _run(app, task.id, body)
    else:
        thread = threading.Thread(target=_run, args=(app, task.id, body), daemon=True,
                                  name=f"herald-task-{task.id}")
        app.extensions.setdefault(_THREADS_KEY, []).append(thread)
        thread.start()
    return task


def wait_for_tasks(app: Flask, timeout: float = 30.0) -> None:
    """Let this app's task threads finish, e.g. before its database engine is disposed (a
    connection still checked out then would be orphaned, open)."""
    for thread in app.extensions.pop(_THREADS_KEY, []):
        thread.join(timeout)


def running_task(kind: str) -> BackgroundTask | None:
    task = db.session.scalars(
        sa.select(BackgroundTask).where(BackgroundTask.kind == kind,
                                        BackgroundTask.status == "running")
    ).first()
    return None if task is None or abandon_if_stale(task) else task


def abandon_if_stale(task: BackgroundTask) -> bool:
    """A running task whose process died stops beating; mark it failed so it can be started
    again and the page stops waiting for it. True when it was abandoned."""
    if task.status != "running" or utcnow() - task.heartbeat_at < STALE_AFTER:
        return False
    task.status, task.finished_at = "error", utcnow()
    task.message = "Interrupted: the process running it stopped. Start it again."
    db.session.commit()
    return True


def _run(app: Flask, task_id: int, body: TaskBody) -> None:
    with app.app_context(), acting_as(source=f"task:{task_id}"):
        def progress(done: int, total: int) -> None:
            _update(task_id, done=done, total=total)

        try:
            message = body(progress)
        except Exception as error:  # noqa: BLE001 (recorded as an event and on the task row)
            db.session.rollback()
            log.exception("Background task %s failed", task_id)
            record(EventAction.SYSTEM_TASK_EXCEPTION, {
                "task": task_id, "message": str(error),
                "exception": "".join(traceback.format_exception(error))}, app="herald.tasks")
            _update(task_id, status="error", message=str(error), finished_at=utcnow())
        else:
            _update(task_id, status="done", message=message, finished_at=utcnow())


def _update(task_id: int, **values) -> None:
    task = db.session.get(BackgroundTask, task_id)
    for name, value in values.items():
        setattr(task, name, value)
    task.heartbeat_at = utcnow()
    db.session.commit()
