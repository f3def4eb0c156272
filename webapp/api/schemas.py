"""The API's typed shapes: request bodies and query strings are validated against them and
the OpenAPI document is generated from them. Field names and types follow authentik 2025.10.

Response models describe what the serializers (webapp/events/serialize.py and
webapp/api/serializers.py) write; tests/api (contract tests and schemathesis) hold the two
together, so the running app does not re-validate every page it sends.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from webapp.api.pagination import PageQuery, Paginated
from webapp.events.retention import MAX_RETENTION

JSONObject = dict[str, Any]
#: A bulk event's `created` may be at most this (naive UTC): later, the longest retention
#: would carry its expiry past the last date Python can represent.
LATEST_CREATED = datetime(datetime.max.year - MAX_RETENTION.days // 365 - 1, 1, 1)


class Strict(BaseModel):
    """A request body: unknown fields are an error, so a typo is not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


class Body(Strict):
    """A request body that configures something (users, groups, tokens, rules, transports,
    policies...). NUL characters are refused here: webapp/web/security.py refuses them in
    forms and query strings, which JSON bodies bypass, and PostgreSQL cannot store them in
    text (a 500 otherwise). Event bodies are not Bodies: like authentik, ingest strips NUL
    from what it records instead of refusing an event."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("Text cannot contain NUL characters (\\u0000).")
        return data


class Event(BaseModel):
    pk: uuid.UUID
    user: JSONObject
    action: str
    app: str
    context: JSONObject
    client_ip: str | None
    created: datetime
    expires: datetime
    brand: JSONObject


class PaginatedEventList(Paginated):
    results: list[Event]


EVENT_ORDERINGS = ("created", "-created", "action", "-action", "app", "-app",
                   "client_ip", "-client_ip", "username", "-username")


class EventQuery(PageQuery):
    action: str | None = Field(None, max_length=100, description="Action contains this text")
    actions: list[str] = Field(default_factory=list, description="Any of these exact actions")
    client_ip: str | None = Field(None, max_length=64, description="An address or a CIDR")
    username: str | None = Field(None, max_length=255)
    context_model_pk: str | None = Field(None, max_length=64)
    context_model_name: str | None = Field(None, max_length=100)
    context_model_app: str | None = Field(None, max_length=100)
    context_authorized_app: str | None = Field(None, max_length=64)
    brand_name: str | None = Field(None, max_length=255)
    search: str | None = Field(None, max_length=255, description="Full-text search")
    ordering: Literal[EVENT_ORDERINGS] = "-created"  # type: ignore[valid-type]


class EventStatsQuery(EventQuery):
    """The list's filters, plus the spans to count over (authentik's `count_steps`)."""

    count_steps: list[str] = Field(
        min_length=1, max_length=20,
        description="Time spans in authentik's timedelta format, e.g. `hours=24` or "
                    "`weeks=3;days=2`; repeat the parameter for several")


class EventStats(BaseModel):
    """How many distinct users the filtered events of the last 60 days have, and how many of
    those events each span counted back from now holds, keyed by the span without its
    separators (`hours=24` -> `hours24`)."""

    unique_users: int
    count_step: dict[str, int]


class EventRequest(Strict):
    """A custom event. `user`, `brand` and `expires` are accepted for authentik clients and
    ignored: the caller is the user, Herald has one brand and retention sets the expiry."""

    action: str = Field(min_length=1, max_length=90)
    app: str = Field(min_length=1, max_length=255)
    context: JSONObject = Field(default_factory=dict)
    client_ip: str | None = Field(None, max_length=45)
    user: JSONObject | None = None
    brand: JSONObject | None = None
    expires: datetime | None = None


class BulkEvent(Strict):
    """One event from another system: its own user snapshot and time are kept."""

    action: str = Field(min_length=1, max_length=90)
    app: str = Field(min_length=1, max_length=255)
    context: JSONObject = Field(default_factory=dict)
    client_ip: str | None = Field(None, max_length=45)
    user: JSONObject | None = None
    created: datetime | None = None

    @field_validator("created")
    @classmethod
    def _expirable(cls, value: datetime | None) -> datetime | None:
        """The expiry (`created` + retention) must still be a date Python can hold."""
        if value is not None and value.replace(tzinfo=None) > LATEST_CREATED:
            raise ValueError(f"must be before {LATEST_CREATED.year}")
        return value


class BulkResult(BaseModel):
    created: int
    pks: list[uuid.UUID]


class VolumeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    history_days: int = Field(7, ge=1, le=90)
    action: str | None = Field(None, max_length=100)
    actions: list[str] = Field(default_factory=list)
    username: str | None = Field(None, max_length=255)


class EventVolume(BaseModel):
    action: str
    time: datetime
    count: int


class TopPerUserQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: str = Field("login", max_length=100)
    top_n: int = Field(15, ge=1, le=1000)


class EventTopPerUser(BaseModel):
    """`application` is the event's `context.authorized_application` as recorded."""

    application: JSONObject | str
    counted_events: int
    unique_users: int


class TypeCreate(BaseModel):
    name: str
    description: str
    component: str
    model_name: str


class DetailError(BaseModel):
    detail: str


class ValidationError(BaseModel):
    """`{field: [messages]}`, as DRF writes them."""

    model_config = ConfigDict(extra="allow")


#: What a request about one object may answer besides its success (every module's writes).
ERRORS = {"HTTP_400": ValidationError, "HTTP_403": DetailError, "HTTP_404": DetailError}
