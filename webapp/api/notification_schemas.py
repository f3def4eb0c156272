"""Shapes of the notification endpoints (the bell, transports, rules, webhook mappings and
Herald's delivery ledger), named and typed as authentik 2025.10 names them; Herald's extras
are marked where they appear."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from webapp.api.directory_schemas import Group, UserId
from webapp.api.pagination import PageQuery, Paginated
from webapp.api.schemas import Body, Event
from webapp.forms.rules import MAX_THROTTLE_MINUTES
from webapp.models import DeliveryStatus, PolicyEngineMode, Severity, TransportMode
from webapp.notifications.transport_admin import MAX_EXPRESSION_LENGTH

SeverityName = Literal[tuple(Severity)]  # type: ignore[valid-type]


class Notification(BaseModel):
    pk: uuid.UUID
    severity: SeverityName
    body: str
    created: datetime
    event: Event | None
    seen: bool
    hyperlink: str | None
    hyperlink_label: str | None
    user: int


class PaginatedNotificationList(Paginated):
    results: list[Notification]


class NotificationQuery(PageQuery):
    seen: bool | None = None
    severity: SeverityName | None = None
    user: UserId | None = Field(None, description=(
        "Whose notifications: the caller's when absent. Only a superuser may name another "
        "user; for anyone else the list stays their own (so another's pk lists nothing)."))


class NotificationChange(Body):
    """authentik lets a client change only whether a notification was seen, and requires
    nothing (PUT and PATCH alike): a body without `seen` changes nothing."""

    seen: bool | None = Field(None, description="Mark read (true) or unread (false)")


TransportModeName = Literal[tuple(TransportMode)]  # type: ignore[valid-type]


class NotificationTransport(BaseModel):
    pk: uuid.UUID
    name: str
    mode: TransportModeName
    mode_verbose: str
    webhook_url: str
    webhook_mapping_body: uuid.UUID | None
    webhook_mapping_headers: uuid.UUID | None
    send_once: bool
    email_subject_prefix: str
    email_template: str
    verify_tls: bool = Field(description="Herald: verify the receiver's TLS certificate")
    ca_bundle: str = Field(description="Herald: PEM certificates to trust instead of the "
                                       "system's")
    signing_secret_set: bool = Field(description="Herald: whether webhook requests are "
                                                 "signed (the secret is never returned)")


class PaginatedNotificationTransportList(Paginated):
    results: list[NotificationTransport]


class TransportChange(Body):
    """PATCH: only the fields sent change. Settings the mode does not read are reset (see
    webapp/notifications/transport_admin.MODE_FIELDS)."""

    name: str | None = Field(None, min_length=1, max_length=150)
    mode: TransportModeName | None = None
    webhook_url: str | None = Field(None, max_length=2048)
    webhook_mapping_body: uuid.UUID | None = None
    webhook_mapping_headers: uuid.UUID | None = None
    send_once: bool | None = None
    email_subject_prefix: str | None = Field(None, max_length=255)
    email_template: str | None = Field(None, max_length=255)
    verify_tls: bool | None = None
    ca_bundle: str | None = Field(None, max_length=200_000)
    signing_secret: str | None = Field(None, max_length=255, description=(
        "Write-only. Omit it to keep the stored secret; an empty string removes it."))


class TransportRequest(TransportChange):
    name: str = Field(min_length=1, max_length=150)
    mode: TransportModeName = TransportMode.LOCAL.value


class TransportTest(BaseModel):
    """authentik's NotificationTransportTest: what happened, as lines of text."""

    messages: list[str]


PolicyEngineModeName = Literal[tuple(PolicyEngineMode)]  # type: ignore[valid-type]


class NotificationRule(BaseModel):
    pk: uuid.UUID
    name: str
    transports: list[uuid.UUID]
    severity: SeverityName
    destination_group: uuid.UUID | None
    destination_group_obj: Group | None
    destination_event_user: bool
    enabled: bool = Field(description="Herald: a disabled rule notifies nobody")
    policy_engine_mode: PolicyEngineModeName
    throttle_minutes: int = Field(description="Herald: at most one notification per "
                                              "throttle key in this many minutes (0: off)")
    throttle_key: str = Field(description="Herald: a template over the event")


class PaginatedNotificationRuleList(Paginated):
    results: list[NotificationRule]


class RuleChange(Body):
    """PATCH: only the fields sent change. Bindings are managed at policies/bindings/."""

    name: str | None = Field(None, min_length=1, max_length=150)
    transports: list[uuid.UUID] | None = Field(None, max_length=100)
    severity: SeverityName | None = None
    destination_group: uuid.UUID | None = None
    destination_event_user: bool | None = None
    enabled: bool | None = None
    policy_engine_mode: PolicyEngineModeName | None = None
    throttle_minutes: int | None = Field(None, ge=0, le=MAX_THROTTLE_MINUTES)
    throttle_key: str | None = Field(None, max_length=500)


class RuleRequest(RuleChange):
    name: str = Field(min_length=1, max_length=150)


class ModelMeta(BaseModel):
    """authentik's read-only description of an object's type, for its admin interface."""

    component: str
    verbose_name: str
    verbose_name_plural: str
    meta_model_name: str


class NotificationWebhookMapping(ModelMeta):
    pk: uuid.UUID
    managed: str | None
    name: str
    expression: str


class PaginatedNotificationWebhookMappingList(Paginated):
    results: list[NotificationWebhookMapping]


class MappingChange(Body):
    name: str | None = Field(None, min_length=1, max_length=150)
    expression: str | None = Field(None, min_length=1, max_length=MAX_EXPRESSION_LENGTH)


class MappingRequest(MappingChange):
    name: str = Field(min_length=1, max_length=150)
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION_LENGTH)


DeliveryStatusName = Literal[tuple(DeliveryStatus)]  # type: ignore[valid-type]


class Delivery(BaseModel):
    """Herald's delivery ledger: one outgoing message through one transport."""

    pk: uuid.UUID = Field(description="The idempotency key sent as X-Herald-Delivery")
    id: int
    status: DeliveryStatusName
    transport: uuid.UUID | None
    transport_name: str
    rule: uuid.UUID | None
    event: uuid.UUID | None
    recipient: int | None
    severity: SeverityName
    body: str
    hyperlink: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    latency_ms: int | None
    response_excerpt: str
    error: str
    created: datetime
    updated: datetime
    sent_at: datetime | None


class PaginatedDeliveryList(Paginated):
    results: list[Delivery]


class DeliveryQuery(PageQuery):
    status: DeliveryStatusName | None = None
    transport: str | None = Field(None, max_length=64, description="A transport's pk or id")
    rule: str | None = Field(None, max_length=64, description="A rule's pk or id")
    event: str | None = Field(None, max_length=64, description="An event's pk")
