"""The delivery queue against a real webhook receiver on 127.0.0.1: sending, retries with
backoff, Retry-After, giving up, recovering rows of a worker that died, and the ledger's
Retry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_group, make_rule, make_transport, make_user
from tests.integration.receivers import HttpReceiver, Reply, http_receiver
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Delivery, Event
from webapp.notifications import delivery as queue
from webapp.notifications.matching import match_pending


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture
def queued(ctx, app, receiver) -> Delivery:
    """One delivery for alice's failed login, queued for the receiver's webhook."""
    app.config["NOTIFICATION_RETRY_BASE_SECONDS"] = 60
    alice = make_user("alice")
    hook = make_transport("hook", "webhook", webhook_url=receiver.url)
    make_rule(actions=("login_failed",), transports=(hook,), group=make_group("ops", alice))
    record("login_failed", {"message": "Bad password for alice"}, user=alice, app="tests")
    db.session.commit()
    match_pending()
    return _only_delivery()


def _only_delivery() -> Delivery:
    db.session.expire_all()
    [delivery] = db.session.scalars(sa.select(Delivery)).all()
    return delivery


def _make_due(delivery: Delivery) -> None:
    """Jump over the backoff instead of sleeping through it."""
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def _configuration_errors() -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.action == "configuration_error")))


def test_a_queued_delivery_is_sent_and_the_ledger_says_so(app, queued, receiver):
    outcomes = queue.send_batch(app, "worker-1")
    assert [outcome.error for outcome in outcomes] == [None]
    [request] = receiver.wait_for(1)
    sent = _only_delivery()
    assert (sent.status, sent.attempts, sent.last_status_code, sent.response_excerpt) == (
        "sent", 1, 200, "ok")
    assert sent.latency_ms is not None and sent.sent_at is not None
    assert request.headers["X-Herald-Delivery"] == str(sent.key)
    assert request.json()["body"] == "Bad password for alice"


def test_a_receiver_that_fails_twice_gets_the_message_once_after_three_attempts(
        app, queued, receiver):
    receiver.reply_with(Reply(500, b"down"), Reply(502, b"still down"))
    for _ in range(3):
        queue.send_batch(app, "worker-1")
        _make_due(_only_delivery())
    done = _only_delivery()
    assert (done.status, done.attempts, done.last_status_code) == ("sent", 3, 200)
    keys = {request.headers["X-Herald-Delivery"] for request in receiver.requests}
    assert keys == {str(done.key)} and len(receiver.requests) == 3
    assert _configuration_errors() == []


def test_a_failed_attempt_waits_an_exponential_backoff_with_jitter(app, queued, receiver):
    receiver.default = Reply(500, b"down")
    before = utcnow()
    queue.send_batch(app, "worker-1")
    failed = _only_delivery()
    assert (failed.status, failed.last_status_code, failed.response_excerpt) == (
        "failed", 500, "down")
    assert "500" in failed.error
    wait = failed.next_attempt_at - before
    assert timedelta(seconds=29) <= wait <= timedelta(seconds=61)


def test_backoff_doubles_and_is_capped_at_an_hour():
    for attempt, ceiling in ((1, 30), (2, 60), (3, 120), (4, 240), (12, 3600)):
        delay = queue.backoff(attempt, 30, None).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_from_the_receiver_sets_the_next_attempt(app, queued, receiver):
    receiver.reply_with(Reply(429, b"slow down", {"Retry-After": "120"}))
    before = utcnow()
    queue.send_batch(app, "worker-1")
    failed = _only_delivery()
    assert failed.status == "failed"
    wait = failed.next_attempt_at - before
    assert timedelta(seconds=119) <= wait <= timedelta(seconds=122)


def test_a_retry_after_beyond_an_hour_is_capped():
    assert queue.backoff(1, 30, 86_400) == timedelta(hours=1)


def test_after_five_failed_attempts_the_delivery_is_dead_with_one_configuration_error(
        app, queued, receiver):
    receiver.default = Reply(500, b"down")
    for _ in range(queue.MAX_ATTEMPTS):
        _make_due(_only_delivery())
        queue.send_batch(app, "worker-1")
    dead = _only_delivery()
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 5, None)
    _make_due(dead)
    assert queue.send_batch(app, "worker-1") == []  # dead rows are never claimed
    [error] = _configuration_errors()
    assert error.app == "herald.notifications"
    assert error.context["notification_transport"]["name"] == "hook"
    assert "gave up after 5 attempt(s)" in error.context["message"]
    assert len(receiver.requests) == 5


def test_an_unreachable_receiver_is_a_failed_attempt_not_a_crash(app, queued):
    hook = _only_delivery().transport
    hook.webhook_url = "http://127.0.0.1:9/nothing-listens-here"
    db.session.commit()
    [outcome] = queue.send_batch(app, "worker-1")
    failed = _only_delivery()
    assert failed.status == "failed" and failed.last_status_code is None and failed.error


def test_a_permanent_error_gives_up_at_once(app, queued):
    """A URL that is not even a URL cannot start working on a retry."""
    hook = _only_delivery().transport
    hook.webhook_url = ""
    db.session.commit()
    queue.send_batch(app, "worker-1")
    dead = _only_delivery()
    assert (dead.status, dead.attempts) == ("dead", 1)
    assert len(_configuration_errors()) == 1


def test_a_deleted_transport_kills_its_queued_deliveries(app, queued):
    db.session.delete(_only_delivery().transport)
    db.session.commit()
    queue.send_batch(app, "worker-1")
    dead = _only_delivery()
    assert (dead.status, dead.transport_name, dead.error) == (
        "dead", "hook", "The transport was deleted.")


def test_rows_of_a_worker_that_died_mid_send_are_sent_again_with_the_same_key(
        app, queued, receiver):
    hold = timedelta(minutes=5)
    assert queue.claim("worker-that-dies", 10, hold) == [queued.id]
    assert queue.claim("worker-2", 10, hold) == []  # claimed rows are not due
    stuck = _only_delivery()
    stuck.claimed_until = utcnow() - timedelta(seconds=1)  # its claim ran out
    db.session.commit()

    queue.send_batch(app, "worker-2")
    done = _only_delivery()
    assert (done.status, done.attempts, done.claimed_by) == ("sent", 2, None)
    [request] = receiver.wait_for(1)
    assert request.headers["X-Herald-Delivery"] == str(done.key)


def test_retry_requeues_failed_and_dead_deliveries_with_a_fresh_budget(app, queued, receiver):
    receiver.default = Reply(500, b"down")
    for _ in range(queue.MAX_ATTEMPTS):
        _make_due(_only_delivery())
        queue.send_batch(app, "worker-1")
    receiver.default = Reply(200, b"back")
    assert queue.retry([_only_delivery()]) == 1
    db.session.commit()
    queue.send_batch(app, "worker-1")
    done = _only_delivery()
    assert (done.status, done.attempts, done.response_excerpt) == ("sent", 1, "back")


def test_retry_leaves_sent_and_queued_deliveries_alone(app, queued):
    assert queue.retry([_only_delivery()]) == 0


def test_the_job_reports_what_it_sent_and_nothing_when_idle(app, queued, receiver):
    assert queue.send_due() == "Sent 1 deliveries; 0 failed."
    assert queue.send_due() == ""
