"""Notification rules, transports, webhook mappings, notifications, and the delivery ledger.

Shapes follow authentik's `authentik.events.models` (rule, transport, mapping, notification);
Herald adds a persisted outbox (every committed event waits there until it has been matched),
a delivery row per outgoing message (the ledger with retries), throttle keys and per-hour
rule statistics.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db_types import UTCDateTime, utcnow
from webapp.core.extensions import db
from webapp.models.directory import Group, User

if TYPE_CHECKING:
    from webapp.models.policies import PolicyBinding


class TransportMode(StrEnum):
    LOCAL = "local"
    WEBHOOK = "webhook"
    WEBHOOK_SLACK = "webhook_slack"
    EMAIL = "email"


class Severity(StrEnum):
    NOTICE = "notice"
    WARNING = "warning"
    ALERT = "alert"


class PolicyEngineMode(StrEnum):
    ANY = "any"
    ALL = "all"


class DeliveryStatus(StrEnum):
    """queued -> sending -> sent; a failed attempt goes back to failed (retried when due) until
    the last attempt, which makes it dead."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


rule_transports = sa.Table(
    "notification_rule_transports",
    db.metadata,
    sa.Column("rule_id", sa.ForeignKey("notification_rules.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("transport_id", sa.ForeignKey("notification_transports.id", ondelete="CASCADE"),
              primary_key=True),
)


class WebhookMapping(db.Model):
    """A reusable Jinja (sandboxed) template that renders a webhook's body or headers."""

    __tablename__ = "notification_webhook_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    expression: Mapped[str] = mapped_column(sa.Text, default="")

    @property
    def pk(self) -> str:
        return str(self.uuid)


class NotificationTransport(db.Model):
    """How a notification leaves Herald: the bell, a webhook, Slack/Discord, or email."""

    __tablename__ = "notification_transports"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    mode: Mapped[str] = mapped_column(sa.String(20), default=TransportMode.LOCAL.value)
    #: One message per event rather than one per recipient (a chat channel, a SIEM).
    send_once: Mapped[bool] = mapped_column(default=False)
    email_subject_prefix: Mapped[str] = mapped_column(sa.String(255),
                                                      default="Herald Notification: ")
    email_template: Mapped[str] = mapped_column(sa.String(255),
                                                default="email/event_notification.html")
    webhook_url: Mapped[str] = mapped_column(sa.String(2048), default="")
    #: Verify the receiver's TLS certificate; against `ca_bundle` (PEM) when one is given.
    verify_tls: Mapped[bool] = mapped_column(default=True)
    ca_bundle: Mapped[str] = mapped_column(sa.Text, default="")
    #: When set, every webhook request carries X-Herald-Signature (HMAC-SHA256).
    signing_secret: Mapped[str] = mapped_column(sa.String(255), default="")
    webhook_mapping_body_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_webhook_mappings.id", ondelete="SET NULL"))
    webhook_mapping_headers_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_webhook_mappings.id", ondelete="SET NULL"))

    webhook_mapping_body: Mapped[WebhookMapping | None] = relationship(
        foreign_keys=[webhook_mapping_body_id])
    webhook_mapping_headers: Mapped[WebhookMapping | None] = relationship(
        foreign_keys=[webhook_mapping_headers_id])

    @property
    def pk(self) -> str:
        return str(self.uuid)


class NotificationRule(db.Model):
    """Which events notify whom, through which transports. A rule with no bindings never fires."""

    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    severity: Mapped[str] = mapped_column(sa.String(20), default=Severity.NOTICE.value)
    destination_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("groups.num_pk", ondelete="SET NULL"))
    destination_event_user: Mapped[bool] = mapped_column(default=False)
    policy_engine_mode: Mapped[str] = mapped_column(sa.String(10),
                                                    default=PolicyEngineMode.ANY.value)
    #: At most one notification per rule and throttle key per this many minutes (0: off).
    throttle_minutes: Mapped[int] = mapped_column(default=0)
    #: A sandboxed template over the event; its rendering is the throttle key.
    throttle_key: Mapped[str] = mapped_column(
        sa.String(500), default="{{ event.user.username }}:{{ event.action }}")

    destination_group: Mapped[Group | None] = relationship()
    transports: Mapped[list[NotificationTransport]] = relationship(
        secondary=rule_transports, order_by="NotificationTransport.name")
    bindings: Mapped[list[PolicyBinding]] = relationship(
        back_populates="rule", order_by="PolicyBinding.order", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def pk(self) -> str:
        return str(self.uuid)


class Notification(db.Model):
    """One message in one user's bell."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_seen_created", "user_id", "seen", "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    severity: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    hyperlink: Mapped[str | None] = mapped_column(sa.String(4096))
    hyperlink_label: Mapped[str | None] = mapped_column(sa.String(255))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen: Mapped[bool] = mapped_column(default=False)
    #: When it was marked seen; the cleanup job deletes seen notifications after a setting.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("events.event_uuid", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_rules.id", ondelete="SET NULL"), index=True)

    user: Mapped[User] = relationship()

    @property
    def pk(self) -> str:
        return str(self.uuid)


class Delivery(db.Model):
    """One outgoing message through one transport, with every attempt's outcome.

    The rendered request is not stored: each attempt renders it from the event and the
    transport, so a fixed mapping or URL applies to the next retry. `key` is the idempotency
    key sent as X-Herald-Delivery on every attempt, so a receiver can drop duplicates.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (sa.Index("ix_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    transport_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_transports.id", ondelete="SET NULL"), index=True)
    transport_name: Mapped[str] = mapped_column(sa.String(150), default="")  # kept if deleted
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_rules.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("events.event_uuid", ondelete="SET NULL"), index=True)
    #: The user the message is for (send-once transports: the first recipient).
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    severity: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    hyperlink: Mapped[str | None] = mapped_column(sa.String(4096))
    status: Mapped[str] = mapped_column(sa.String(20), default=DeliveryStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    #: A `sending` row whose worker died is due again once this passes.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    last_status_code: Mapped[int | None] = mapped_column()
    latency_ms: Mapped[int | None] = mapped_column()
    response_excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    transport: Mapped[NotificationTransport | None] = relationship()
    rule: Mapped[NotificationRule | None] = relationship()
    recipient: Mapped[User | None] = relationship()


class EventOutbox(db.Model):
    """An event committed but not yet matched against the rules.

    The row is written in the event's own transaction and deleted in the transaction that
    creates its notifications and deliveries, so matching happens exactly once even across a
    crash, and a second scheduler never claims the same row (SKIP LOCKED on PostgreSQL;
    SQLite has one writer).
    """

    __tablename__ = "event_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("events.event_uuid", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThrottleMark(db.Model):
    """When a rule last notified for one throttle key."""

    __tablename__ = "notification_throttle_marks"

    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_rules.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the rendering
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RuleHourStats(db.Model):
    """Per rule and hour: events matched, and matches the throttle suppressed."""

    __tablename__ = "notification_rule_hours"

    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_rules.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    matched: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
