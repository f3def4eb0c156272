"""The scheduler: one lease per database, jobs recorded, failures never stop it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import events
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import JobRun, SchedulerLease
from webapp.system.jobs import JOBS, Job
from webapp.system.scheduler import JobRunner, Lease, build_scheduler


def counting_job(calls: list[str]) -> Job:
    return Job("count", "counts its runs", 60, lambda: calls.append("run") or "counted")


def test_of_two_schedulers_only_the_lease_holder_runs_jobs(app):
    calls: list[str] = []
    job = counting_job(calls)
    first, second = JobRunner(app, Lease("process-a")), JobRunner(app, Lease("process-b"))

    assert first.run(job) == "counted"
    assert second.run(job).startswith("skipped")
    assert first.run(job) == "counted"
    assert calls == ["run", "run"]


def test_the_lease_moves_when_its_holder_stops_renewing(app):
    calls: list[str] = []
    job = counting_job(calls)
    dead, survivor = JobRunner(app, Lease("dead")), JobRunner(app, Lease("survivor"))
    dead.run(job)
    with app.app_context():
        lease = db.session.get(SchedulerLease, "scheduler")
        lease.expires_at = utcnow() - timedelta(seconds=1)  # the holder died a minute ago
        db.session.commit()

    assert survivor.run(job) == "counted"
    with app.app_context():
        assert db.session.get(SchedulerLease, "scheduler").holder == "survivor"
    assert dead.run(job).startswith("skipped")


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
    import threading

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
