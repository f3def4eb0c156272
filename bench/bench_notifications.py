"""The notification pipeline: matching, recording beside 100 rules, draining the queue, on a
fresh database of every database of the run (bench.datasets). Targets from issue #8.

- Matching: microseconds per event for the outbox matcher's whole path (`match_pending`:
  claim, load, the policies, throttle, statistics, notifications, commit) over 1,000 events
  against 100 enabled rules with matcher policies on action and app; each event matches one
  rule, which rings one bell. Target 1 ms. Baseline: recording and committing the same
  events (what an event costs anyway).
- Recording: microseconds per `record()` + commit with 100 rules enabled. Target: at most
  10 % above the baseline, the same with the rules disabled (matching runs after the
  commit, off the request path, so the rules must not show here). The two are timed
  alternately, best of three each, so drift on a shared machine hits both alike.
- Latency: the median milliseconds from an event's commit to its bell notification with a
  running scheduler (matching polls every second). Target 2 s. Baseline: recording the event
  and calling the matcher directly, the floor without any polling.
- Draining: milliseconds to send 1,000 queued webhook deliveries to a receiver on 127.0.0.1 that
  answers in 50 ms. Target 15,000 ms (one by one it would take 50 s). Baseline: the same 1,000
  POSTs from a bare thread pool of the same size with `requests`, the floor for this
  concurrency.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter

import requests
import sqlalchemy as sa
from flask import Flask

from bench import Measurement, at_most, table
from bench.datasets import databases, scratch_app
from tests.integration.receivers import Reply, http_receiver
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import (
    Delivery,
    EventMatcherPolicy,
    Group,
    Notification,
    NotificationRule,
    NotificationTransport,
    PolicyBinding,
    User,
)
from webapp.notifications import outbox
from webapp.notifications.delivery import send_due
from webapp.notifications.matching import match_pending
from webapp.system.jobs import JOBS
from webapp.system.scheduler import build_scheduler

RULES = 100
EVENTS = 1000
DELIVERIES = 1000
LATENCY_SAMPLES = 7
MATCH_TARGET, LATENCY_TARGET, DRAIN_TARGET = at_most(1000), at_most(2000), at_most(15_000)
#: record() with the rules enabled may be at most this much slower than with none.
RECORD_SLOWDOWN = 1.10
ACTIONS = ("login", "login_failed", "logout", "model_created", "model_updated",
           "password_set", "configuration_error", "policy_exception")
APPS = tuple(f"app{number}" for number in range(-(-RULES // len(ACTIONS))))


def run() -> list[Measurement]:
    logging.disable(logging.INFO)  # the pipeline's log lines are not what this measures
    try:
        results = []
        for kind in databases():
            with scratch_app(kind) as app, app.app_context():
                results += [*_matching_and_recording(kind), _latency(kind, app),
                            _draining(kind, app)]
        return results
    finally:
        logging.disable(logging.NOTSET)


def _matching_and_recording(kind: str) -> list[Measurement]:
    user = User(username="alice", email="alice@example.com")
    db.session.add(user)
    db.session.commit()
    _store_rules(Group(name="ops", users=[user]))
    with_rules, without = float("inf"), float("inf")
    for _ in range(3):
        _set_rules_enabled(False)
        without = min(without, _record_us(user))
        _set_rules_enabled(True)
        with_rules = min(with_rules, _record_us(user))
    match_us = _match_us()
    return [
        Measurement(kind, f"notifications: match one event, {RULES} rules", match_us, "µs",
                    MATCH_TARGET, with_rules, "record + commit"),
        Measurement(kind, f"notifications: record() with {RULES} rules", with_rules, "µs",
                    at_most(without * RECORD_SLOWDOWN), without,
                    "record() with rules disabled"),
    ]


def _store_rules(group: Group) -> None:
    """One rule per (action, app): any event of those matches exactly one, ringing a bell."""
    bell = NotificationTransport(name="bell", mode="local")
    for number in range(RULES):
        action, app = ACTIONS[number % len(ACTIONS)], APPS[number // len(ACTIONS)]
        rule = NotificationRule(name=f"bench-rule-{number}", destination_group=group,
                                transports=[bell])
        rule.bindings.append(PolicyBinding(policy=EventMatcherPolicy(
            name=f"bench-match-{number}", action=action, app=app)))
        db.session.add(rule)
    db.session.commit()
    _drain_outbox()  # the rules' own audit events


def _set_rules_enabled(enabled: bool) -> None:
    db.session.execute(sa.update(NotificationRule).values(enabled=enabled))
    db.session.commit()
    _drain_outbox()


def _drain_outbox() -> None:
    match_pending()  # the job itself: batch after batch until the outbox is empty


def _record_us(user: User) -> float:
    """Per event, over EVENTS // 3 events, each recorded and committed on its own."""
    started = perf_counter()
    for number in range(EVENTS // 3):
        rule = number % RULES
        record(ACTIONS[rule % len(ACTIONS)], {"message": f"event {number}"}, user=user,
               app=APPS[rule // len(ACTIONS)], client_ip="203.0.113.7")
        db.session.commit()
    return (perf_counter() - started) / (EVENTS // 3) * 1e6


def _match_us() -> float:
    """The outbox holds the last timed run's events (with rules enabled): match them all."""
    pending = outbox.pending()
    started = perf_counter()
    _drain_outbox()
    return (perf_counter() - started) / pending * 1e6


def _latency(kind: str, app: Flask) -> Measurement:
    """Median time from an event's commit to its bell notification, with a running
    scheduler doing the matching (its job polls every second)."""
    pipeline = tuple(job for job in JOBS if job.id.startswith("notification_"))
    scheduler, runner = build_scheduler(app, jobs=pipeline)
    scheduler.start()
    try:
        waits = sorted(_one_notification_ms() for _ in range(LATENCY_SAMPLES))
    finally:
        runner.stop(scheduler)
    started = perf_counter()
    _record_matching_event()
    _drain_outbox()
    direct = (perf_counter() - started) * 1000
    return Measurement(kind, "notifications: event to bell with a running scheduler",
                       waits[len(waits) // 2], "ms", LATENCY_TARGET, direct,
                       "record + match_pending called directly")


def _record_matching_event() -> int:
    """Commit one event that the first bench rule matches; the bell count before it."""
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    user = db.session.scalar(sa.select(User).where(User.username == "alice"))
    record(ACTIONS[0], {"message": "latency"}, user=user, app=APPS[0])
    db.session.commit()
    return before


def _one_notification_ms() -> float:
    started = perf_counter()
    before = _record_matching_event()
    while db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == before:
        db.session.rollback()
        time.sleep(0.01)
    return (perf_counter() - started) * 1000


def _draining(kind: str, app: Flask) -> Measurement:
    with http_receiver() as receiver:
        receiver.default = Reply(200, b"ok", delay=0.05)
        hook = NotificationTransport(name="hook", mode="webhook", webhook_url=receiver.url)
        db.session.add(hook)
        db.session.flush()
        recipient = db.session.scalar(sa.select(User.id))
        db.session.add_all([Delivery(transport_id=hook.id, transport_name="hook",
                                     recipient_id=recipient, severity="notice",
                                     body=f"message {n}") for n in range(DELIVERIES)])
        db.session.commit()
        started = perf_counter()
        send_due()  # the job itself: its workers claim until nothing is due
        drained = perf_counter() - started
        raw = _raw_posts(receiver.url, app.config["NOTIFICATION_CONCURRENCY"])
    return Measurement(kind, f"notifications: drain {DELIVERIES:,} webhooks, 50 ms receiver",
                       drained * 1000, "ms", DRAIN_TARGET, raw * 1000,
                       "requests from a thread pool")


def _raw_posts(url: str, workers: int) -> float:
    started = perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda n: requests.post(url, json={"n": n}, timeout=10),
                      range(DELIVERIES)))
    return perf_counter() - started


if __name__ == "__main__":
    print(table(run()))
