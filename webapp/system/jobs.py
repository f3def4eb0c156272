"""Periodic jobs, declared as data with stable ids; webapp.system.scheduler runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webapp.events.maintenance import delete_expired
from webapp.events.rollups import refresh_rollups
from webapp.reports.export_jobs import delete_expired_exports


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    every_seconds: int
    run: Callable[[], str]  # returns a one-line result for the Settings page


def cleanup_expired_events() -> str:
    return f"Deleted {delete_expired()} expired events."


JOBS: tuple[Job, ...] = (
    Job("retention_cleanup", "Delete events past their retention", 300, cleanup_expired_events),
    Job("export_cleanup", "Delete export files past their retention", 300,
        delete_expired_exports),
    Job("event_rollups", "Count closed hours of events for the Overview", 300, refresh_rollups),
)
