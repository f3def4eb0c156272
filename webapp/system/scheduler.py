"""The periodic job runner: APScheduler 3 plus a lease row, so one database has one scheduler.

Any number of processes may run a scheduler (`HERALD_SCHEDULER=true`, `flask scheduler run`);
before each job a process takes or renews the lease, and only the holder runs jobs. A holder
that dies stops renewing, its lease expires, and another process takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from datetime import timedelta

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import acting_as, record
from webapp.models import EventAction, JobRun, SchedulerLease
from webapp.system.jobs import JOBS, Job

log = logging.getLogger("herald.scheduler")
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)
HEARTBEAT_SECONDS = 20


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The database row that says which process runs jobs, until when."""

    def __init__(self, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        self.holder, self.ttl = holder, ttl

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if ours. Commits."""
        now = utcnow()
        taken = db.session.execute(
            sa.update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME,
                   sa.or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now))
            .values(holder=self.holder, expires_at=now + self.ttl)
        ).rowcount == 1
        if not taken:
            taken = self._create(now)
        db.session.commit()
        return taken

    def release(self) -> None:
        db.session.execute(sa.delete(SchedulerLease).where(
            SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder))
        db.session.commit()

    def _create(self, now) -> bool:
        if db.session.get(SchedulerLease, LEASE_NAME) is not None:
            return False
        try:
            with db.session.begin_nested():
                db.session.add(SchedulerLease(name=LEASE_NAME, holder=self.holder,
                                              expires_at=now + self.ttl, acquired_at=now))
        except sa.exc.IntegrityError:
            return False  # another process created it first
        return True


def current_lease() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, LEASE_NAME)


class JobRunner:
    """Runs one job under the lease, records its outcome, and never lets it kill the scheduler."""

    def __init__(self, app: Flask, lease: Lease) -> None:
        self.app, self.lease = app, lease

    def run(self, job: Job) -> str:
        with self.app.app_context(), acting_as(source=f"job:{job.id}"):
            if not self.lease.acquire():
                return "skipped: another process holds the scheduler lease"
            return self._run_recorded(job)

    def heartbeat(self) -> None:
        with self.app.app_context():
            self.lease.acquire()

    def _run_recorded(self, job: Job) -> str:
        run = db.session.get(JobRun, job.id) or JobRun(job_id=job.id)
        run.started_at, run.finished_at, run.status = utcnow(), None, "running"
        run.holder, run.message = self.lease.holder, ""
        db.session.add(run)
        db.session.commit()
        try:
            message = job.run()
        except Exception as error:  # noqa: BLE001 (a failed job is recorded, the rest go on)
            db.session.rollback()
            log.exception("Job %s failed", job.id)
            message = f"{type(error).__name__}: {error}"
            record(EventAction.SYSTEM_TASK_EXCEPTION, {
                "task": job.id, "message": message,
                "exception": "".join(traceback.format_exception(error))}, app="herald.scheduler")
            self._finish(job.id, "error", message)
            return message
        self._finish(job.id, "ok", message)
        return message

    @staticmethod
    def _finish(job_id: str, status: str, message: str) -> None:
        run = db.session.get(JobRun, job_id)
        run.finished_at, run.status, run.message = utcnow(), status, message[:2000]
        db.session.commit()


def build_scheduler(app: Flask, *, blocking: bool = False,
                    jobs: tuple[Job, ...] = JOBS) -> tuple[BaseScheduler, JobRunner]:
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone="UTC", job_defaults={
        "misfire_grace_time": 60, "coalesce": True, "max_instances": 1})
    runner = JobRunner(app, Lease(new_holder_id()))
    scheduler.add_job(runner.heartbeat, "interval", seconds=HEARTBEAT_SECONDS,
                      id="scheduler_heartbeat", next_run_time=utcnow())
    for job in jobs:
        scheduler.add_job(runner.run, "interval", args=[job], seconds=job.every_seconds,
                          id=job.id, replace_existing=True,
                          next_run_time=utcnow() + timedelta(seconds=5))
    return scheduler, runner


def start_in_process(app: Flask) -> None:
    """HERALD_SCHEDULER=true: a background scheduler in this (web) process."""
    scheduler, runner = build_scheduler(app)
    scheduler.start()
    app.extensions["herald_scheduler"] = runner
    log.info("Scheduler started in process as %s", runner.lease.holder)
