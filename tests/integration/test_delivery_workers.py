"""Deliveries across processes: several workers share one queue without sending anything
twice, and a scheduler killed in the middle of a send loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.factories import make_group, make_rule, make_transport, make_user
from tests.integration.receivers import HttpReceiver, Reply, http_receiver
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Delivery
from webapp.notifications import delivery as queue
from webapp.system.jobs import JOBS
from webapp.system.scheduler import build_scheduler

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def _queue_deliveries(receiver: HttpReceiver, count: int) -> None:
    alice = make_user("alice")
    hook = make_transport("hook", "webhook", webhook_url=receiver.url)
    db.session.add_all([Delivery(transport_id=hook.id, transport_name=hook.name,
                                 recipient_id=alice.id, severity="notice", body=f"message {n}")
                        for n in range(count)])
    db.session.commit()


def _statuses() -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Delivery.status, Delivery.attempts).order_by(Delivery.id))
    return [(status, attempts) for status, attempts in rows]


def _drain(app: Flask, worker: str, sent: list[int]) -> None:
    with app.app_context():
        while outcomes := queue.send_batch(app, worker, limit=10):
            sent.append(len(outcomes))


def test_two_workers_share_the_queue_and_send_each_delivery_once(app, ctx, receiver):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several schedulers share a queue on PostgreSQL (FOR UPDATE SKIP LOCKED)")
    receiver.default = Reply(200, b"ok", delay=0.02)
    _queue_deliveries(receiver, 120)
    sent: dict[str, list[int]] = {"a": [], "b": []}
    workers = [threading.Thread(target=_drain, args=(app, name, sent[name])) for name in sent]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    keys = [request.headers["X-Herald-Delivery"] for request in receiver.requests]
    assert len(keys) == 120 and len(set(keys)) == 120
    assert _statuses() == [("sent", 1)] * 120
    assert sum(sent["a"]) > 0 and sum(sent["b"]) > 0, sent


def _scheduler(app: Flask, log: Path) -> subprocess.Popen:
    """`flask scheduler run` on the test database, holding a claim for 2 s only."""
    env = {**os.environ, "HERALD_SECRET_KEY": "x" * 32,
           "HERALD_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "HERALD_NOTIFICATION_CLAIM_SECONDS": "2"}
    with log.open("a") as output:
        return subprocess.Popen([FLASK, "--app", "app", "scheduler", "run"], cwd=ROOT, env=env,
                                stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_a_delivery_survives_its_scheduler_killed_mid_send(app, ctx, receiver, tmp_path):
    receiver.reply_with(Reply(200, b"too late", delay=30))  # the first attempt hangs
    _queue_deliveries(receiver, 1)
    log = tmp_path / "scheduler.log"

    first = _scheduler(app, log)
    try:
        receiver.wait_for(1, timeout=30)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert _statuses() == [("sending", 1)], log.read_text()

    second = _scheduler(app, log)
    try:
        _wait_until(lambda: _statuses() == [("sent", 2)], timeout=30)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    first_try, second_try = receiver.wait_for(2)
    assert first_try.headers["X-Herald-Delivery"] == second_try.headers["X-Herald-Delivery"]


def test_a_running_scheduler_turns_an_event_into_a_webhook_call(app, ctx, receiver):
    """The whole pipeline with nothing called by hand: record, commit, and the scheduler's
    matching and delivery jobs do the rest."""
    alice = make_user("alice")
    hook = make_transport("hook", "webhook", webhook_url=receiver.url)
    make_rule(actions=("login_failed",), transports=(hook,), group=make_group("ops", alice))
    pipeline = tuple(job for job in JOBS if job.id.startswith("notification_"))
    scheduler, runner = build_scheduler(app, jobs=pipeline)
    scheduler.start()
    try:
        record("login_failed", {"message": "Bad password for alice"}, user=alice, app="tests")
        db.session.commit()
        [request] = receiver.wait_for(1, timeout=15)
    finally:
        runner.stop(scheduler)
    assert request.json()["body"] == "Bad password for alice"
    assert request.json()["user_username"] == "alice"
