"""The scheduler: one lease per database, jobs recorded, failures never stop it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
import pytest
import sqlalchemy as sa
from flask.cli import FlaskGroup, run_command

from tests.helpers import events
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import JobRun, SchedulerLease
from webapp.system import scheduler as scheduler_module
from webapp.system.jobs import JOBS, Job
from webapp.system.scheduler import (
    LEASE_TRUST_MARGIN,
    LEASE_TTL,
    JobRunner,
    Lease,
    build_scheduler,
    serves_http,
)


def counting_job(calls: list[str]) -> Job:
    return Job("count", "counts its runs", 60, lambda: calls.append("run") or "counted")


@contextmanager
def statements_on(app, table: str) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs that name `table`."""
    seen: list[str] = []

    def spy(_conn, _cursor, statement, *_args) -> None:
        if table in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", spy)


def test_of_two_schedulers_only_the_lease_holder_runs_jobs(app):
    calls: list[str] = []
    job = counting_job(calls)
    first, second = JobRunner(app, Lease("process-a")), JobRunner(app, Lease("process-b"))

    assert first.run(job) == "counted"
    assert second.run(job).startswith("skipped")
    assert first.run(job) == "counted"
    assert calls == ["run", "run"]


def test_the_lease_moves_when_its_holder_stops_renewing(app, monkeypatch):
    calls: list[str] = []
    job = counting_job(calls)
    dead, survivor = JobRunner(app, Lease("dead")), JobRunner(app, Lease("survivor"))
    dead.run(job)
    with app.app_context():  # the holder went silent: by the database's clock, its lease ended
        db.session.get(SchedulerLease, "scheduler").expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    monkeypatch.setattr(scheduler_module, "monotonic", lambda: time.monotonic() + 3600)

    assert survivor.run(job) == "counted"
    with app.app_context():
        assert db.session.get(SchedulerLease, "scheduler").holder == "survivor"
    assert dead.run(job).startswith("skipped")


def test_the_holder_trusts_its_lease_in_memory_so_frequent_jobs_write_no_lease(app):
    runner = JobRunner(app, Lease("holder"))
    runner.run(counting_job([]))
    with app.app_context():
        renewed_at = db.session.get(SchedulerLease, "scheduler").expires_at
    with statements_on(app, "scheduler_lease") as lease_statements:
        for _ in range(3):
            assert runner.run(counting_job([])) == "counted"

    assert lease_statements == []
    with app.app_context():
        assert db.session.get(SchedulerLease, "scheduler").expires_at == renewed_at


def test_a_holder_close_to_expiry_checks_the_database_again(app, monkeypatch):
    holder, other = JobRunner(app, Lease("holder")), JobRunner(app, Lease("other"))
    holder.run(counting_job([]))
    with app.app_context():
        db.session.get(SchedulerLease, "scheduler").holder = "other"  # taken over meanwhile
        db.session.commit()
    near_expiry = time.monotonic() + (LEASE_TTL - LEASE_TRUST_MARGIN).total_seconds() + 1
    monkeypatch.setattr(scheduler_module, "monotonic", lambda: near_expiry)

    assert holder.run(counting_job([])).startswith("skipped")
    assert other.run(counting_job([])) == "counted"


def test_a_released_lease_is_free_at_once(app):
    with app.app_context():
        assert Lease("a").acquire()
        Lease("a").release()
        assert Lease("b").acquire()


def test_a_failing_job_records_system_task_exception_and_the_next_job_still_runs(app):
    runner = JobRunner(app, Lease("me"))
    failing = Job("explode", "always fails", 60, lambda: 1 / 0)

    assert runner.run(failing) == "ZeroDivisionError: division by zero"
    assert runner.run(counting_job([])) == "counted"
    with app.app_context():
        (event,) = events("system_task_exception")
        assert event.context["task"] == "explode"
        assert "ZeroDivisionError" in event.context["exception"]
        assert event.context["source"] == "job:explode"
        runs = {run.job_id: run for run in db.session.scalars(sa.select(JobRun))}
        assert runs["explode"].status == "error"
        assert runs["count"].status == "ok" and runs["count"].message == "counted"


def test_a_job_failing_because_the_database_is_gone_is_logged_once_and_nothing_escapes(
        tmp_path, caplog):
    """Its failure cannot be recorded either (that needs the database): one line says so,
    instead of a second traceback escaping into APScheduler."""
    gone = create_app(config_for_tests(f"sqlite:///{tmp_path / 'no-such-folder' / 'h.db'}"))
    runner = JobRunner(gone, Lease("me"))

    def needs_the_database() -> str:
        db.session.execute(sa.text("SELECT 1"))
        return "unreachable"

    outcome = runner.run(Job("db_gone", "needs the database", 60, needs_the_database,
                             exclusive=False, record_idle=False))
    assert outcome.startswith("OperationalError")
    assert "Job db_gone: its failure could not be recorded either (OperationalError)" in (
        caplog.text)


def test_jobs_are_declared_with_stable_ids_and_scheduled_with_safe_defaults(app):
    scheduler, _ = build_scheduler(app)
    scheduler.start(paused=True)
    scheduled = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)

    assert {job.id for job in JOBS} <= set(scheduled)
    cleanup = scheduled["retention_cleanup"]
    assert cleanup.trigger.interval == timedelta(minutes=5)
    assert cleanup.misfire_grace_time == 60 and cleanup.max_instances == 1


def test_the_settings_page_shows_each_jobs_last_run(app, admin_client):
    JobRunner(app, Lease("web-1")).run(next(job for job in JOBS if job.id == "retention_cleanup"))
    page = admin_client.get("/settings/").text
    assert "Jobs run in <code>web-1</code>" in page
    assert "Deleted 0 expired events." in page


@pytest.mark.parametrize("holder_count", [3])
def test_many_processes_racing_for_a_fresh_lease_give_exactly_one_holder(app, holder_count):
    winners: list[str] = []

    def contend(name: str) -> None:
        with app.app_context():
            if Lease(name).acquire():
                winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"p{n}",)) for n in range(holder_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_a_job_that_skips_idle_runs_records_results_but_not_idle_runs(app):
    runner = JobRunner(app, Lease("me"))
    results = iter(["", "Sent 2 deliveries."])
    deliver = Job("deliver", "sends queued deliveries", 1, lambda: next(results),
                  record_idle=False)

    with statements_on(app, "job_runs") as job_run_statements:
        assert runner.run(deliver) == ""
    assert job_run_statements == []
    assert runner.run(deliver) == "Sent 2 deliveries."
    with app.app_context():
        run = db.session.get(JobRun, "deliver")
        assert (run.status, run.message, run.holder) == ("ok", "Sent 2 deliveries.", "me")
        assert run.finished_at >= run.started_at


def test_a_job_that_skips_idle_runs_still_records_its_errors(app):
    runner = JobRunner(app, Lease("me"))
    failing = Job("deliver", "sends queued deliveries", 1, lambda: 1 / 0, record_idle=False)

    assert runner.run(failing) == "ZeroDivisionError: division by zero"
    with app.app_context():
        assert db.session.get(JobRun, "deliver").status == "error"
        (event,) = events("system_task_exception")
        assert event.context["task"] == "deliver"


def test_a_shared_job_runs_without_the_lease_and_never_touches_it(app):
    with app.app_context():
        assert Lease("elsewhere").acquire()
    runner = JobRunner(app, Lease("me"))
    shared = Job("match", "matches the outbox", 1, lambda: "matched", exclusive=False)

    with statements_on(app, "scheduler_lease") as lease_statements:
        assert runner.run(shared) == "matched"
    assert lease_statements == []
    assert runner.run(counting_job([])).startswith("skipped")


def test_a_shared_job_runs_in_two_schedulers_at_once(app):
    with app.app_context():
        assert Lease("elsewhere").acquire()  # neither scheduler below holds the lease
    both_inside, met = threading.Barrier(2, timeout=10), threading.Event()

    def meet() -> str:
        if not met.is_set():
            both_inside.wait()  # passes only while the other scheduler runs it too
            met.set()
        return "met"

    shared = Job("match", "matches the outbox", 1, meet, exclusive=False)
    schedulers = [build_scheduler(app, jobs=(shared,)) for _ in range(2)]
    for scheduler, _ in schedulers:
        scheduler.start()
    try:
        assert met.wait(timeout=10)
    finally:
        for scheduler, runner in schedulers:
            runner.stop(scheduler)
    with app.app_context():
        assert db.session.get(JobRun, "match").status == "ok"
        assert db.session.get(SchedulerLease, "scheduler").holder == "elsewhere"


def test_a_stopped_scheduler_frees_its_lease(app):
    scheduler, runner = build_scheduler(app, jobs=())
    scheduler.start()
    try:
        assert wait_for(lambda: lease_holder(app) == runner.lease.holder)
    finally:
        runner.stop(scheduler)
    assert not scheduler.running
    assert lease_holder(app) is None


def test_a_slow_frequent_job_never_stacks_and_warns_nothing(app, caplog):
    inside, peak, finished = [0], [0], threading.Event()

    def slow() -> str:
        inside[0] += 1
        peak[0] = max(peak[0], inside[0])
        time.sleep(2.2)  # outlasts two of its 1-second intervals
        inside[0] -= 1
        finished.set()
        return ""

    scheduler, runner = build_scheduler(
        app, jobs=(Job("slow", "outlasts its interval", 1, slow, exclusive=False),))
    scheduler.start()
    try:
        assert finished.wait(timeout=10)
    finally:
        runner.stop(scheduler)
    assert peak == [1]
    assert "maximum number of running instances" not in caplog.text


def test_only_flask_run_and_wsgi_servers_count_as_serving(monkeypatch):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert serves_http()  # gunicorn importing app:app: no click context
    with click.Context(FlaskGroup()):  # `flask bootstrap`, `flask db upgrade` load the app here
        assert not serves_http()
    with click.Context(run_command) as run:
        run.params["reload"] = False
        assert serves_http()
        run.params["reload"] = True  # the reloader's parent only watches files
        assert not serves_http()
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the child it starts serves
        assert serves_http()


def lease_holder(app) -> str | None:
    with app.app_context():
        lease = db.session.get(SchedulerLease, "scheduler")
        return lease.holder if lease else None


def wait_for(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
