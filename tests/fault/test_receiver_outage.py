"""A webhook receiver that is down: its deliveries fail, are retried with backoff, and arrive
once it is back, each exactly once (no attempt reached it while it was down).

The scheduler is a real `flask scheduler run` on the suite's database, with the first retry's
delay cut to a second (HERALD_NOTIFICATION_RETRY_BASE_SECONDS), so the outage takes seconds;
bench/fault_receiver_down.py is the same with the default delays and two real minutes.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.fault.herald_processes import herald_env, scheduler, wait_until
from tests.fault.scenario import all_sent, bodies_by_key, deliveries, notify_webhook
from tests.integration.receivers import free_port, http_receiver
from webapp.core.extensions import db
from webapp.events import record

EVENTS = 5


def failed_twice(expected: int) -> bool:
    states = deliveries()
    return len(states) == expected and all(d.status == "failed" and d.attempts >= 2
                                           for d in states)


def test_deliveries_to_a_receiver_that_was_down_arrive_once_it_is_back(
        app: Flask, ctx: None, tmp_path: Path):
    port = free_port()  # where the receiver will be; nothing listens there yet
    notify_webhook(f"http://127.0.0.1:{port}/hook", "custom_outage")
    env = herald_env(app.config["SQLALCHEMY_DATABASE_URI"], NOTIFICATION_RETRY_BASE_SECONDS=1)
    log = tmp_path / "scheduler.log"

    with scheduler(env, log):
        for n in range(EVENTS):
            record("custom_outage", {"n": n}, app="fault")
        db.session.commit()
        wait_until(lambda: failed_twice(EVENTS), 60, f"two failed attempts:\n{log.read_text()}")
        assert {d.error for d in deliveries()} != {""}, "a failed attempt says why"

        with http_receiver(port=port) as receiver:
            wait_until(lambda: all_sent(EVENTS), 30, f"the deliveries:\n{log.read_text()}")

    received = bodies_by_key(receiver.requests)
    assert set(received) == {str(d.key) for d in deliveries()}
    assert all(len(bodies) == 1 for bodies in received.values()), received
    assert sorted(request.json()["event"]["context"]["n"] for request in receiver.requests) \
        == list(range(EVENTS))
    assert all(d.attempts >= 3 and d.error == "" for d in deliveries())
