"""Administering transports and webhook mappings: the list with delivery health, saving with
each mode's own fields, the checks a form or the API runs before saving, and the Test button.

Nothing here reads a request: the pages, the API and the CLI pass plain values in.
"""

from __future__ import annotations

import logging
import re
import ssl
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.request_context import user_reference
from webapp.events.serialize import DEFAULT_BRAND
from webapp.models import (
    Delivery,
    DeliveryStatus,
    Event,
    EventAction,
    Notification,
    NotificationTransport,
    Severity,
    TransportMode,
    User,
    WebhookMapping,
)
from webapp.models.notifications import rule_transports
from webapp.notifications.mappings import (
    MappingError,
    Purpose,
    preview_mapping,
    sample_event,
)
from webapp.notifications.transports import OutgoingMessage, TransportError, send

log = logging.getLogger("herald.notifications")

MODE_LABELS: dict[str, str] = {
    TransportMode.LOCAL: "Local (bell)",
    TransportMode.WEBHOOK: "Webhook (generic)",
    TransportMode.WEBHOOK_SLACK: "Webhook (Slack / Discord)",
    TransportMode.EMAIL: "Email",
}
WEBHOOK_MODES = frozenset({TransportMode.WEBHOOK.value, TransportMode.WEBHOOK_SLACK.value})
#: Which settings each mode reads; saving resets the others to their defaults, so a transport
#: switched from webhook to email keeps no forgotten URL or signing secret. Slack's body is
#: fixed, so only the generic webhook takes mappings.
MODE_FIELDS: dict[str, frozenset[str]] = {
    TransportMode.LOCAL: frozenset(),
    TransportMode.WEBHOOK: frozenset({"send_once", "webhook_url", "verify_tls", "ca_bundle",
                                      "signing_secret", "webhook_mapping_body_id",
                                      "webhook_mapping_headers_id"}),
    TransportMode.WEBHOOK_SLACK: frozenset({"send_once", "webhook_url", "verify_tls",
                                            "ca_bundle", "signing_secret"}),
    TransportMode.EMAIL: frozenset({"send_once", "email_subject_prefix", "email_template"}),
}
FINISHED = (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value)
HEALTH_WINDOW = timedelta(hours=24)
MAX_EXPRESSION_LENGTH = 20_000
TEST_ACTION = EventAction.normalise("transport_test")
_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


@dataclass
class TransportSettings:
    """What an administrator sets. `signing_secret` None keeps the stored secret (the form
    never shows it back); "" removes it."""

    name: str
    mode: str
    send_once: bool = False
    webhook_url: str = ""
    verify_tls: bool = True
    ca_bundle: str = ""
    signing_secret: str | None = None
    webhook_mapping_body_id: int | None = None
    webhook_mapping_headers_id: int | None = None
    email_subject_prefix: str = "Herald Notification: "
    email_template: str = "email/event_notification.html"


@dataclass(frozen=True)
class TransportRow:
    transport: NotificationTransport
    mode_label: str
    host: str
    last_status: str | None
    last_at: datetime | None
    sent_24h: int
    finished_24h: int

    @property
    def success_rate(self) -> float | None:
        """Sent of finished deliveries in the window; None when nothing finished there."""
        return self.sent_24h / self.finished_24h if self.finished_24h else None


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    summary: str
    status_code: int | None = None
    latency_ms: int | None = None
    excerpt: str = ""
    error: str = ""


# --- the list ----------------------------------------------------------------------------------

def transport_rows(now: datetime | None = None) -> list[TransportRow]:
    """Every transport with its health, in three queries whatever the number of transports."""
    transports = db.session.scalars(sa.select(NotificationTransport)
                                    .order_by(NotificationTransport.name)).all()
    last = _last_deliveries()
    health = _health(now or utcnow())
    return [TransportRow(transport=t, mode_label=MODE_LABELS.get(t.mode, t.mode),
                         host=url_host(t.webhook_url) if t.mode in WEBHOOK_MODES else "",
                         last_status=last.get(t.id, (None, None))[0],
                         last_at=last.get(t.id, (None, None))[1],
                         sent_24h=health.get(t.id, (0, 0))[0],
                         finished_24h=health.get(t.id, (0, 0))[1])
            for t in transports]


def _last_deliveries() -> dict[int, tuple[str, datetime]]:
    newest = sa.func.row_number().over(partition_by=Delivery.transport_id,
                                       order_by=(Delivery.updated.desc(), Delivery.id.desc()))
    ranked = sa.select(Delivery.transport_id, Delivery.status, Delivery.updated,
                       newest.label("n")).where(Delivery.transport_id.is_not(None)).subquery()
    rows = db.session.execute(sa.select(ranked.c.transport_id, ranked.c.status,
                                        ranked.c.updated).where(ranked.c.n == 1))
    return {transport_id: (status, updated) for transport_id, status, updated in rows}


def _health(now: datetime) -> dict[int, tuple[int, int]]:
    sent = sa.func.sum(sa.case((Delivery.status == DeliveryStatus.SENT.value, 1), else_=0))
    rows = db.session.execute(
        sa.select(Delivery.transport_id, sent, sa.func.count())
        .where(Delivery.status.in_(FINISHED), Delivery.updated >= now - HEALTH_WINDOW,
               Delivery.transport_id.is_not(None))
        .group_by(Delivery.transport_id))
    return {transport_id: (int(ok or 0), total) for transport_id, ok, total in rows}


def url_host(url: str) -> str:
    """host[:port] of a webhook URL: never its path or credentials, where Slack and Discord
    put the token."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    return f"{host}:{port}" if host and port else host


def rules_using(transport: NotificationTransport) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(rule_transports)
                             .where(rule_transports.c.transport_id == transport.id)) or 0


# --- saving ------------------------------------------------------------------------------------

def create_transport(settings: TransportSettings) -> NotificationTransport:
    transport = NotificationTransport()
    update_transport(transport, settings)
    db.session.add(transport)
    return transport


def update_transport(transport: NotificationTransport, settings: TransportSettings) -> None:
    """Copy the settings the mode reads; reset the rest to defaults (the caller commits)."""
    used = MODE_FIELDS.get(settings.mode, frozenset())
    chosen = replace(TransportSettings(name=settings.name, mode=settings.mode, signing_secret=""),
                     **{key: getattr(settings, key) for key in used})
    if chosen.signing_secret is None:
        chosen.signing_secret = transport.signing_secret or ""
    for setting in fields(chosen):
        setattr(transport, setting.name, getattr(chosen, setting.name))


def check_webhook_url(url: str) -> None:
    """Raise ValueError unless `url` is an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise ValueError("This is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("The URL must start with http:// or https://.")
    if not host or any(char.isspace() for char in url):
        raise ValueError("The URL needs a host name, like https://hooks.example.com/herald.")


def check_ca_bundle(text: str) -> int:
    """How many certificates the PEM text holds; ValueError unless each one parses."""
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise ValueError("Paste one or more PEM certificates "
                         "(-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).")
    for number, block in enumerate(blocks, start=1):
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=block)
        except (ssl.SSLError, ValueError) as exc:
            raise ValueError(f"Certificate {number} is not a valid PEM certificate "
                             f"({getattr(exc, 'reason', None) or exc}).") from None
    return len(blocks)


# --- mappings ----------------------------------------------------------------------------------

def mapping_usage() -> dict[int, int]:
    """How many transports use each mapping (as body or headers), for the list."""
    counts: dict[int, int] = {}
    for column in (NotificationTransport.webhook_mapping_body_id,
                   NotificationTransport.webhook_mapping_headers_id):
        for mapping_id, count in db.session.execute(
                sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)):
            counts[mapping_id] = counts.get(mapping_id, 0) + count
    return counts


def purposes_in_use(mapping: WebhookMapping) -> list[Purpose]:
    """The purposes transports use this mapping for, so an edit cannot break one of them."""
    used: list[Purpose] = []
    for purpose, column in (("body", NotificationTransport.webhook_mapping_body_id),
                            ("headers", NotificationTransport.webhook_mapping_headers_id)):
        if mapping.id is not None and db.session.scalar(
                sa.select(sa.func.count()).where(column == mapping.id)):
            used.append(purpose)
    return used


def preview_source() -> tuple[Event, bool]:
    """The event a live render runs on: the newest one, or the sample failed login when there
    is none yet (then the flag is True)."""
    newest = db.session.scalars(sa.select(Event).order_by(Event.created.desc(),
                                                          Event.event_uuid.desc()).limit(1))
    event = newest.first()
    return (event, False) if event is not None else (sample_event(), True)


@dataclass(frozen=True)
class LiveRender:
    event: Event
    is_sample: bool
    output: str = ""
    error: str = ""


def live_render(expression: str, purpose: str) -> LiveRender:
    """The mapping rendered on the newest event (or the sample), or why it does not render."""
    event, is_sample = preview_source()
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return LiveRender(event, is_sample, error=f"A mapping can be at most "
                                                  f"{MAX_EXPRESSION_LENGTH:,} characters.")
    checked: Purpose = "headers" if purpose == "headers" else "body"
    try:
        return LiveRender(event, is_sample, output=preview_mapping(expression, checked, event))
    except MappingError as exc:
        return LiveRender(event, is_sample, error=str(exc))


# --- the Test button ---------------------------------------------------------------------------

def send_test(transport: NotificationTransport, user: User) -> TestOutcome:
    """Send a test notification to `user` through `transport` now, and say what happened.

    Never raises for anything a receiver does: the page shows the outcome instead. Webhook and
    email tests carry an event that exists only in memory (nothing is stored but, for email,
    the `email_sent` event, and for local mode the bell notification; the caller commits).
    """
    body = f"Test notification from transport {transport.name}"
    if transport.mode == TransportMode.LOCAL:
        db.session.add(Notification(severity=Severity.NOTICE.value, body=body,
                                    user_id=user.id))
        return TestOutcome(ok=True, summary=f"Added a notification to {user.username}'s bell.")
    message = OutgoingMessage(transport=transport, event=_test_event(user, body), recipient=user,
                              severity=Severity.NOTICE.value, body=body, hyperlink=None,
                              delivery_key=uuid.uuid4(), attempt=1)
    try:
        result = send(message)
    except TransportError as exc:
        return TestOutcome(ok=False, summary="The test failed.", status_code=exc.status_code,
                           latency_ms=exc.latency_ms, excerpt=exc.response_excerpt,
                           error=exc.message)
    except Exception as exc:  # noqa: BLE001 (a bug must not become a 500 on a test button)
        log.exception("testing transport %s failed unexpectedly", transport.name)
        return TestOutcome(ok=False, summary="The test failed.",
                           error=f"unexpected error: {type(exc).__name__}: {exc}")
    return TestOutcome(ok=True, summary="Sent.", status_code=result.status_code,
                       latency_ms=result.latency_ms, excerpt=result.response_excerpt)


def _test_event(user: User, body: str) -> Event:
    """authentik's test: an unsaved event by the tester, so receivers see a real shape."""
    now = utcnow()
    return Event(event_uuid=uuid.uuid4(), action=TEST_ACTION, app=__name__,
                 user=user_reference(user), context={"message": body}, client_ip=None,
                 created=now, expires=now + timedelta(days=1), brand=dict(DEFAULT_BRAND))
