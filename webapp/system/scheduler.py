"""The periodic job runner: APScheduler 3 plus a lease row, so one database has one scheduler.

Any number of processes may run a scheduler (`HERALD_SCHEDULER=true` in a serving process,
`flask scheduler run`). Exclusive jobs run only in the process holding the lease; a holder that
dies stops renewing, its lease expires, and another process takes over. A holder that stops
cleanly deletes its lease so another takes over at once. Shared jobs (`exclusive=False`) claim
their own rows and run in every scheduler, without the lease.

Lease times are read from and compared with the database's clock, never a host's: schedulers
on hosts whose clocks disagree still agree on when a lease expires. How long a holder trusts
its lease without asking is measured on its own monotonic clock, which no clock step moves.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import traceback
import uuid
from datetime import UTC, datetime, timedelta
from time import monotonic, perf_counter

import click
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from flask.cli import run_command
from flask.helpers import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.core.upsert import dialect_insert
from webapp.events import acting_as, record
from webapp.models import EventAction, JobRun, SchedulerLease
from webapp.system.jobs import JOBS, Job
from webapp.system.metrics import JOB_RUNS, JOB_SECONDS

log = logging.getLogger("herald.scheduler")
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)
HEARTBEAT_SECONDS = 20
# The holder trusts its lease in memory until this long before it expires: more than the time
# between reading the database's clock and the lease write, less than TTL - heartbeat so
# renewals keep it trusted.
LEASE_TRUST_MARGIN = timedelta(seconds=15)
FIRST_RUN_DELAY_SECONDS = 5
QUIET_OVERLAPS_BELOW = timedelta(minutes=1)
SKIPPED = "skipped: another process holds the scheduler lease"


#: Seconds since the Unix epoch by the database's own clock (clock_timestamp(), not now():
#: PostgreSQL's now() stands still for the whole transaction).
_DATABASE_EPOCH = {
    "postgresql": sa.func.extract("epoch", sa.func.clock_timestamp()),
    "sqlite": (sa.func.julianday("now") - 2440587.5) * 86400.0,
}


def database_now() -> datetime:
    """The database's current time, aware, in UTC."""
    dialect = db.session.get_bind(mapper=SchedulerLease.__mapper__).dialect.name
    seconds = db.session.scalar(sa.select(_DATABASE_EPOCH[dialect]))
    return datetime.fromtimestamp(float(seconds), UTC)


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The database row that says which process runs exclusive jobs, until when."""

    def __init__(self, holder: str, ttl: timedelta = LEASE_TTL) -> None:
        self.holder, self.ttl = holder, ttl
        self._trusted_until: float | None = None  # on this process's monotonic clock

    def held(self) -> bool:
        """True if this process holds the lease. Answers from memory while the lease is far from
        expiring (the heartbeat renews it), so a job that runs every second costs no write."""
        if self._trusted_until is not None and monotonic() < self._trusted_until:
            return True
        return self.acquire()

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if ours. Commits."""
        started = monotonic()
        now = database_now()
        taken = db.session.execute(
            sa.update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME,
                   sa.or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now))
            .values(holder=self.holder, expires_at=now + self.ttl)
        ).rowcount == 1
        if not taken:
            taken = self._create(now)
        db.session.commit()
        trusted = (self.ttl - LEASE_TRUST_MARGIN).total_seconds()
        self._trusted_until = started + trusted if taken else None
        return taken

    def release(self) -> None:
        self._trusted_until = None
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


def _count(job: Job, outcome: str, clock: float) -> None:
    JOB_RUNS.labels(job.id, outcome).inc()
    JOB_SECONDS.labels(job.id).observe(perf_counter() - clock)


def current_lease() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, LEASE_NAME)


class JobRunner:
    """Runs one job (exclusive ones under the lease), records its outcome, and never lets it
    kill the scheduler."""

    def __init__(self, app: Flask, lease: Lease) -> None:
        self.app, self.lease = app, lease

    def run(self, job: Job) -> str:
        with self.app.app_context(), acting_as(source=f"job:{job.id}"):
            if job.exclusive and not self.lease.held():
                return SKIPPED
            return self._run_recorded(job)

    def heartbeat(self) -> None:
        with self.app.app_context():
            self.lease.acquire()

    def stop(self, scheduler: BaseScheduler) -> None:
        """Stop scheduling, let running jobs finish, then free the lease, so another process
        takes over at once rather than after the TTL."""
        if scheduler.running:
            scheduler.shutdown(wait=True)
        with self.app.app_context():
            self.lease.release()
        log.info("Scheduler %s stopped and released its lease", self.lease.holder)

    def _run_recorded(self, job: Job) -> str:
        """Run the job and keep its last outcome in JobRun; a job with record_idle=False
        writes nothing when it had nothing to do (an empty result). Runs and their durations
        are counted for /metrics."""
        started, clock = utcnow(), perf_counter()
        if job.record_idle:
            self._save(job.id, started, None, "running", "")
        try:
            message = job.run()
        except Exception as error:  # noqa: BLE001 (a failed job is recorded, the rest go on)
            db.session.rollback()
            log.exception("Job %s failed", job.id)
            message = f"{type(error).__name__}: {error}"
            self._record_failure(job, started, message, error)
            _count(job, "error", clock)
            return message
        if message or job.record_idle:
            self._save(job.id, started, utcnow(), "ok", message)
        _count(job, "ok" if message else "idle", clock)
        return message

    def _record_failure(self, job: Job, started: datetime, message: str,
                        error: Exception) -> None:
        """system_task_exception and the JobRun row; when the database itself is what
        failed, they cannot be written either: one more log line, not a second traceback."""
        try:
            record(EventAction.SYSTEM_TASK_EXCEPTION, {
                "task": job.id, "message": message,
                "exception": "".join(traceback.format_exception(error))},
                app="herald.scheduler")
            self._save(job.id, started, utcnow(), "error", message)
        except sa.exc.SQLAlchemyError as unrecorded:
            db.session.rollback()
            log.error("Job %s: its failure could not be recorded either (%s)", job.id,
                      type(unrecorded).__name__)

    def _save(self, job_id: str, started: datetime, finished: datetime | None, status: str,
              message: str) -> None:
        """Upsert the job's JobRun: a shared job runs in several schedulers at once, where
        reading then inserting the row would collide."""
        values = {"started_at": started, "finished_at": finished, "status": status,
                  "holder": self.lease.holder, "message": message[:2000]}
        db.session.execute(dialect_insert(JobRun).values(job_id=job_id, **values)
                           .on_conflict_do_update(index_elements=[JobRun.job_id], set_=values))
        db.session.commit()


class _QuietOverlaps(logging.Filter):
    """Drops APScheduler's "maximum number of running instances reached" warning for jobs due
    every few seconds: there a run outlasting the interval is expected (the next run waits, it
    is not stacked) and would otherwise print a warning every second. Slower jobs keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg):
            return True
        interval = getattr(record.args[0].trigger, "interval", None)
        return interval is None or interval >= QUIET_OVERLAPS_BELOW


_quiet_overlaps = _QuietOverlaps()


def build_scheduler(app: Flask, *, blocking: bool = False,
                    jobs: tuple[Job, ...] = JOBS) -> tuple[BaseScheduler, JobRunner]:
    """A scheduler with the heartbeat and the jobs. Coalescing and max_instances=1 mean a slow
    run is never stacked: late runs collapse into one, taken when the running one ends."""
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    logging.getLogger("apscheduler.scheduler").addFilter(_quiet_overlaps)  # once: same filter
    scheduler = scheduler_class(timezone="UTC", job_defaults={
        "misfire_grace_time": 60, "coalesce": True, "max_instances": 1})
    runner = JobRunner(app, Lease(new_holder_id()))
    scheduler.add_job(runner.heartbeat, "interval", seconds=HEARTBEAT_SECONDS,
                      id="scheduler_heartbeat", next_run_time=utcnow())
    for job in jobs:
        first_run = min(job.every_seconds, FIRST_RUN_DELAY_SECONDS)
        scheduler.add_job(runner.run, "interval", args=[job], seconds=job.every_seconds,
                          id=job.id, replace_existing=True,
                          next_run_time=utcnow() + timedelta(seconds=first_run))
    return scheduler, runner


def serves_http() -> bool:
    """Whether this process is about to serve HTTP, so HERALD_SCHEDULER may start a scheduler.

    Flask's CLI imports the app inside a click context: for `flask run` the current context is
    the one of Flask's own `run_command` (compared by identity, not by name or argv); for any
    other subcommand (`db upgrade`, `bootstrap`, `users create`, `demo`, `scheduler run`,
    `shell`) it is the group's or that command's context. `FLASK_RUN_FROM_CLI` cannot tell them
    apart, since Flask sets it for every subcommand. A WSGI server (gunicorn `app:app`, uWSGI,
    waitress) imports the app with no click context at all, so no context means serving. Under
    `flask run` with the reloader, the watching parent loads the app too but never serves: only
    the child Werkzeug starts (`is_running_from_reloader`) gets a scheduler. A plain script
    importing `app` counts as serving too; like every in-process scheduler, it frees the lease
    when it exits.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True
    if ctx.command is not run_command:
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = get_debug_flag()  # what run_command itself decides
    return not reload or is_running_from_reloader()


def start_in_process(app: Flask) -> None:
    """HERALD_SCHEDULER=true: a background scheduler in this serving process, stopped (and its
    lease released) when the interpreter exits cleanly."""
    scheduler, runner = build_scheduler(app)
    scheduler.start()
    atexit.register(runner.stop, scheduler)
    app.extensions["herald_scheduler"] = runner
    log.info("Scheduler started in process as %s", runner.lease.holder)
