"""Shapes of `policies/`: policies as authentik 2025.10 shows them (with its read-only type
description and `bound_to`), and bindings, whose target is a notification rule's pk."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from webapp.api.directory_schemas import PartialGroup, PartialUser, UserId
from webapp.api.notification_schemas import Body, ModelMeta
from webapp.api.pagination import PageQuery, Paginated
from webapp.notifications.transport_admin import MAX_EXPRESSION_LENGTH


class Policy(ModelMeta):
    pk: uuid.UUID
    name: str
    execution_logging: bool
    bound_to: int = Field(description="How many bindings use the policy")
    created: datetime


class EventMatcherPolicy(Policy):
    action: str | None
    client_ip: str | None
    app: str | None
    model: str | None


class ExpressionPolicy(Policy):
    expression: str


class PaginatedPolicyList(Paginated):
    results: list[Policy]


class PaginatedEventMatcherPolicyList(Paginated):
    results: list[EventMatcherPolicy]


class PaginatedExpressionPolicyList(Paginated):
    results: list[ExpressionPolicy]


class PolicyChange(Body):
    name: str | None = Field(None, min_length=1, max_length=150)
    execution_logging: bool | None = None


class EventMatcherChange(PolicyChange):
    """PATCH: criteria not sent stay; null clears one (at least one must remain)."""

    action: str | None = Field(None, max_length=100)
    client_ip: str | None = Field(None, max_length=64)
    app: str | None = Field(None, max_length=255)
    model: str | None = Field(None, max_length=255)


class EventMatcherRequest(EventMatcherChange):
    name: str = Field(min_length=1, max_length=150)


class ExpressionChange(PolicyChange):
    expression: str | None = Field(None, min_length=1, max_length=MAX_EXPRESSION_LENGTH)


class ExpressionRequest(ExpressionChange):
    name: str = Field(min_length=1, max_length=150)
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION_LENGTH)


class PolicyQuery(PageQuery):
    name: str | None = Field(None, max_length=150)


class PolicyBinding(BaseModel):
    pk: uuid.UUID
    policy: uuid.UUID | None
    group: uuid.UUID | None
    user: int | None
    policy_obj: Policy | None
    group_obj: PartialGroup | None
    user_obj: PartialUser | None
    target: uuid.UUID = Field(description="The notification rule's pk")
    negate: bool
    enabled: bool
    order: int
    timeout: int
    failure_result: bool


class PaginatedPolicyBindingList(Paginated):
    results: list[PolicyBinding]


class BindingQuery(PageQuery):
    target: uuid.UUID | None = None
    policy: uuid.UUID | None = None


class BindingChange(Body):
    """PATCH: only the fields sent change. Exactly one of policy, group and user is set."""

    policy: uuid.UUID | None = None
    group: uuid.UUID | None = None
    user: UserId | None = None
    target: uuid.UUID | None = None
    negate: bool | None = None
    enabled: bool | None = None
    order: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    timeout: int | None = Field(None, ge=1, le=300)
    failure_result: bool | None = None


class BindingRequest(BindingChange):
    target: uuid.UUID
    order: int = Field(ge=-1_000_000, le=1_000_000)
