"""Periodic jobs, declared as data with stable ids; webapp.system.scheduler runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webapp.events.maintenance import delete_expired
from webapp.events.positions import keep_hour_counts
from webapp.events.rollups import refresh_rollups
from webapp.notifications.cleanup import delete_settled
from webapp.notifications.delivery import send_due
from webapp.notifications.matching import match_pending
from webapp.reports.export_jobs import delete_expired_exports


@dataclass(frozen=True)
class Job:
    """A periodic job.

    exclusive: True runs it only in the scheduler holding the database lease (work that must
    not run twice at once); False runs it in every scheduler, for jobs that claim their own rows
    (FOR UPDATE SKIP LOCKED) and so must not wait up to the lease TTL for a holder.
    record_idle: False keeps a run with an empty result out of JobRun, so a job polling every
    second writes nothing while there is nothing to do; results and errors are still recorded.
    """

    id: str
    description: str
    every_seconds: int
    run: Callable[[], str]  # returns a one-line result for the Settings page
    exclusive: bool = True
    record_idle: bool = True


def cleanup_expired_events() -> str:
    return f"Deleted {delete_expired()} expired events."


JOBS: tuple[Job, ...] = (
    Job("retention_cleanup", "Delete events past their retention", 300, cleanup_expired_events),
    Job("export_cleanup", "Delete export files past their retention", 300,
        delete_expired_exports),
    Job("event_rollups", "Count closed hours of events for the Overview", 300, refresh_rollups),
    Job("event_hour_counts", "Fold and check the hourly event counts behind deep API pages",
        3600, keep_hour_counts),
    # Every second in every scheduler: each claims its own rows, so they share the work.
    Job("notification_matching", "Match new events against the notification rules", 1,
        match_pending, exclusive=False, record_idle=False),
    Job("notification_delivery", "Send queued notification deliveries, retrying failures", 1,
        send_due, exclusive=False, record_idle=False),
    Job("notification_cleanup", "Delete seen notifications and settled deliveries", 300,
        delete_settled),
)
