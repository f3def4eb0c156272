"""The delivery queue: claim due deliveries, send them concurrently, retry with backoff.

A claim marks rows `sending` with a deadline (`claimed_until`) and counts the attempt, in one
UPDATE over a `FOR UPDATE SKIP LOCKED` subquery, so schedulers sharing a PostgreSQL database
take disjoint rows; SQLite has one writer. A worker that dies mid-send leaves its rows
`sending`; once their deadline passes they are due again and the next attempt carries the
same X-Herald-Delivery key, so a receiver can drop the duplicate.

Sending happens in a pool of worker threads (bounded concurrency, per-request timeouts in
the transports), outside any database transaction; each outcome is written as it comes.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import selectinload

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import (
    Delivery,
    DeliveryStatus,
    Event,
    EventAction,
    NotificationTransport,
)
from webapp.notifications.transports import (
    OutgoingMessage,
    SendResult,
    TransportError,
    send,
)

log = logging.getLogger("herald.notifications")
MAX_ATTEMPTS = 5
BACKOFF_CAP = timedelta(hours=1)
#: Rows a worker claims at a time: few, so the work spreads evenly over the pool.
PER_WORKER = 4
RUN_SECONDS = 50.0
DUE_STATUSES = (DeliveryStatus.QUEUED.value, DeliveryStatus.FAILED.value)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    result: SendResult | None = None
    error: TransportError | None = None


def send_due() -> str:
    """The job: workers send due deliveries until none are left (or time is up); a one-line
    result, empty when idle.

    Each worker thread claims a few rows, sends them and settles each at once, then claims
    again, so a slow receiver holds up one worker, not a whole batch, and the queue drains
    at the pool's full concurrency.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _anything_due():
        return ""
    name, deadline = uuid.uuid4().hex[:12], time.monotonic() + RUN_SECONDS
    concurrency = app.config["NOTIFICATION_CONCURRENCY"]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="herald-send") as pool:
        per_worker = list(pool.map(lambda n: _work(app, f"{name}-{n}", deadline),
                                   range(concurrency)))
    sent = [ok for results in per_worker for ok in results]
    return f"Sent {sum(sent)} deliveries; {len(sent) - sum(sent)} failed." if sent else ""


def _work(app: Flask, worker: str, deadline: float) -> list[bool]:
    """One worker thread: its own app context and session, claiming until the queue is dry."""
    with app.app_context():
        results: list[bool] = []
        while time.monotonic() < deadline:
            outcomes = send_batch(app, worker, limit=PER_WORKER)
            if not outcomes:
                break
            results.extend(outcome.error is None for outcome in outcomes)
        return results


def send_batch(app: Flask, worker: str, limit: int = PER_WORKER) -> list[Outcome]:
    """Claim up to `limit` rows, then send and settle them one by one, committing each."""
    ids = claim(worker, limit, timedelta(seconds=app.config["NOTIFICATION_CLAIM_SECONDS"]))
    outcomes = []
    for delivery_id, message in _messages(ids).items():
        outcome = _attempt(delivery_id, message)
        settle(outcome, app.config["NOTIFICATION_RETRY_BASE_SECONDS"])
        db.session.commit()
        outcomes.append(outcome)
    return outcomes


def _due(now: datetime) -> sa.ColumnElement[bool]:
    """Queued or failed rows whose time has come, and rows whose claim ran out."""
    return sa.or_(
        sa.and_(Delivery.status.in_(DUE_STATUSES), Delivery.next_attempt_at <= now),
        sa.and_(Delivery.status == DeliveryStatus.SENDING.value, Delivery.claimed_until < now))


def _anything_due() -> bool:
    found = db.session.scalar(sa.select(Delivery.id).where(_due(utcnow())).limit(1))
    db.session.rollback()  # end the read, so an idle run holds nothing open
    return found is not None


def claim(worker: str, limit: int, hold_for: timedelta) -> list[int]:
    """Mark up to `limit` due deliveries as ours for `hold_for` and count the attempt.
    Commits."""
    now = utcnow()
    chosen = (sa.select(Delivery.id).where(_due(now))
              .order_by(Delivery.next_attempt_at, Delivery.id)
              .limit(limit).with_for_update(skip_locked=True))
    ids = db.session.scalars(
        sa.update(Delivery).where(Delivery.id.in_(chosen.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING.value, claimed_by=worker,
                claimed_until=now + hold_for, attempts=Delivery.attempts + 1, updated=now)
        .returning(Delivery.id)).all()
    db.session.commit()
    return sorted(ids)


def _messages(ids: Sequence[int]) -> dict[int, OutgoingMessage]:
    """Load what the transports need, detached: sending happens outside any transaction,
    and settling reloads each row."""
    if not ids:
        return {}
    deliveries = db.session.scalars(
        sa.select(Delivery).where(Delivery.id.in_(ids)).options(
            selectinload(Delivery.transport).selectinload(
                NotificationTransport.webhook_mapping_body),
            selectinload(Delivery.transport).selectinload(
                NotificationTransport.webhook_mapping_headers),
            selectinload(Delivery.recipient))).all()
    events = {event.event_uuid: event for event in db.session.scalars(
        sa.select(Event).where(Event.event_uuid.in_(
            {d.event_id for d in deliveries if d.event_id is not None})))}
    messages = {d.id: OutgoingMessage(
        transport=d.transport, event=events.get(d.event_id), recipient=d.recipient,
        severity=d.severity, body=d.body, hyperlink=d.hyperlink, delivery_key=d.key,
        attempt=d.attempts) for d in deliveries}
    db.session.expunge_all()
    db.session.rollback()
    return messages


def _attempt(delivery_id: int, message: OutgoingMessage) -> Outcome:
    """One send. Whatever goes wrong becomes the delivery's error, never the worker's: the
    email transport's `email_sent` event stays in the session for the settling commit."""
    try:
        if message.transport is None:
            raise TransportError("The transport was deleted.", permanent=True)
        return Outcome(delivery_id, result=send(message))
    except TransportError as error:
        db.session.rollback()
        return Outcome(delivery_id, error=error)
    except Exception as error:  # noqa: BLE001 (a bug in one send must not stop the queue)
        db.session.rollback()
        log.exception("Delivery %s failed unexpectedly", delivery_id)
        return Outcome(delivery_id, error=TransportError(f"{type(error).__name__}: {error}"))


def settle(outcome: Outcome, retry_base: float) -> None:
    """Write an attempt's outcome: sent, failed (due again after a backoff), or dead."""
    delivery = db.session.get(Delivery, outcome.delivery_id)
    if delivery is None:
        return
    now = utcnow()
    delivery.claimed_until, delivery.claimed_by = None, None
    if outcome.error is None:
        _mark_sent(delivery, outcome.result, now)
        return
    error = outcome.error
    delivery.last_status_code, delivery.latency_ms = error.status_code, error.latency_ms
    delivery.response_excerpt, delivery.error = error.response_excerpt, error.message[:2000]
    if error.permanent or delivery.attempts >= MAX_ATTEMPTS:
        _mark_dead(delivery)
    else:
        delivery.status = DeliveryStatus.FAILED.value
        delivery.next_attempt_at = now + backoff(delivery.attempts, retry_base, error.retry_after)


def backoff(attempts: int, base_seconds: float, retry_after: float | None) -> timedelta:
    """Exponential with full jitter over its upper half, capped at an hour; a receiver's
    Retry-After wins (capped too), since it knows when it will take requests again."""
    if retry_after is not None:
        return min(timedelta(seconds=max(retry_after, 0.0)), BACKOFF_CAP)
    ceiling = min(base_seconds * 2 ** (attempts - 1), BACKOFF_CAP.total_seconds())
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (not crypto)


def retry(deliveries: Sequence[Delivery]) -> int:
    """Queue failed or dead deliveries again now, with a fresh attempt budget (the ledger's
    Retry button). The caller commits."""
    again = [d for d in deliveries
             if d.status in (DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value)]
    for delivery in again:
        delivery.status, delivery.attempts = DeliveryStatus.QUEUED.value, 0
        delivery.next_attempt_at = utcnow()
    return len(again)


def _mark_sent(delivery: Delivery, result: SendResult | None, now: datetime) -> None:
    delivery.status, delivery.sent_at = DeliveryStatus.SENT.value, now
    delivery.next_attempt_at = None
    delivery.error = ""
    if result is not None:
        delivery.last_status_code, delivery.latency_ms = result.status_code, result.latency_ms
        delivery.response_excerpt = result.response_excerpt


def _mark_dead(delivery: Delivery) -> None:
    delivery.status, delivery.next_attempt_at = DeliveryStatus.DEAD.value, None
    record(EventAction.CONFIGURATION_ERROR, {
        "message": f"Notification transport {delivery.transport_name!r} gave up after "
                   f"{delivery.attempts} attempt(s): {delivery.error}",
        "notification_transport": {"pk": str(delivery.transport.uuid)
                                   if delivery.transport else None,
                                   "name": delivery.transport_name},
        "delivery": str(delivery.key),
    }, app="herald.notifications")
