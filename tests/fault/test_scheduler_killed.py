"""The scheduler process killed with SIGKILL while deliveries are in flight: after a restart
every delivery arrives, and the receiver sees each idempotency key with one content only;
a delivery that arrives twice (sent, then the process died before writing it down) arrives
with the same key and the same body, so the receiver can drop the repeat.

Real `flask scheduler run` processes on the suite's database and a slow real receiver; the
claim on a delivery is cut to three seconds (HERALD_NOTIFICATION_CLAIM_SECONDS) so the
restarted scheduler takes over the dead one's rows quickly.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.fault.herald_processes import herald_env, kill, scheduler, stop, wait_until
from tests.fault.scenario import all_sent, bodies_by_key, deliveries, notify_webhook
from tests.integration.receivers import HttpReceiver, Reply
from webapp.core.extensions import db
from webapp.events import record

EVENTS = 24
#: Each answer takes this long, so the kill finds sends on the wire.
SLOW_REPLY = Reply(200, b"ok", delay=1.0)


def test_a_scheduler_killed_mid_delivery_loses_nothing_and_repeats_only_same_key_content(
        app: Flask, ctx: None, receiver: HttpReceiver, tmp_path: Path):
    notify_webhook(receiver.url, "custom_drill")
    receiver.default = SLOW_REPLY
    env = herald_env(app.config["SQLALCHEMY_DATABASE_URI"], NOTIFICATION_CLAIM_SECONDS=3)
    log = tmp_path / "scheduler.log"
    for n in range(EVENTS):
        record("custom_drill", {"n": n}, app="fault")
    db.session.commit()

    with scheduler(env, log) as first:
        # A first round has been answered and a second is on the wire.
        receiver.wait_for(EVENTS // 2, timeout=60)
        kill(first)
    states = deliveries()
    assert len(states) == EVENTS
    assert any(d.status == "sending" for d in states), "the kill came too late to test anything"

    receiver.default = Reply(200, b"ok")
    with scheduler(env, log) as second:
        wait_until(lambda: all_sent(EVENTS), 60, f"every delivery:\n{log.read_text()}")
        assert stop(second) == 0

    received = bodies_by_key(receiver.requests)
    assert set(received) == {str(d.key) for d in deliveries()}
    assert all(len(set(bodies)) == 1 for bodies in received.values()), "a key changed content"
    assert any(len(bodies) > 1 for bodies in received.values()), "no send was cut off"
    events_per_key = {key: {request.json()["event"]["pk"] for request in receiver.requests
                            if request.headers["X-Herald-Delivery"] == key} for key in received}
    assert len({pk for pks in events_per_key.values() for pk in pks}) == EVENTS
    assert all(len(pks) == 1 for pks in events_per_key.values())
