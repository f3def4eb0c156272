"""The Event: one row per thing that happened, authentik-compatible in shape."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db_types import PortableJSON, UTCDateTime, utcnow
from webapp.core.extensions import db


class EventAction(StrEnum):
    """Every action authentik knows; anything else is stored with the `custom_` prefix."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    USER_WRITE = "user_write"
    SUSPICIOUS_REQUEST = "suspicious_request"
    PASSWORD_SET = "password_set"  # noqa: S105 (an action name, not a password)
    SECRET_VIEW = "secret_view"
    SECRET_ROTATE = "secret_rotate"
    INVITE_USED = "invitation_used"
    AUTHORIZE_APPLICATION = "authorize_application"
    SOURCE_LINKED = "source_linked"
    IMPERSONATION_STARTED = "impersonation_started"
    IMPERSONATION_ENDED = "impersonation_ended"
    FLOW_EXECUTION = "flow_execution"
    POLICY_EXECUTION = "policy_execution"
    POLICY_EXCEPTION = "policy_exception"
    PROPERTY_MAPPING_EXCEPTION = "property_mapping_exception"
    SYSTEM_TASK_EXECUTION = "system_task_execution"
    SYSTEM_TASK_EXCEPTION = "system_task_exception"
    SYSTEM_EXCEPTION = "system_exception"
    CONFIGURATION_ERROR = "configuration_error"
    CONFIGURATION_WARNING = "configuration_warning"
    MODEL_CREATED = "model_created"
    MODEL_UPDATED = "model_updated"
    MODEL_DELETED = "model_deleted"
    EMAIL_SENT = "email_sent"
    UPDATE_AVAILABLE = "update_available"
    EXPORT_READY = "export_ready"
    REVIEW_INITIATED = "review_initiated"
    REVIEW_OVERDUE = "review_overdue"
    REVIEW_ATTESTED = "review_attested"
    REVIEW_COMPLETED = "review_completed"
    CUSTOM_PREFIX = "custom_"

    @classmethod
    def normalise(cls, action: str) -> str:
        """A known action stays as it is; anything else gets the `custom_` prefix (once)."""
        if action in cls._value2member_map_ and action != cls.CUSTOM_PREFIX:
            return action
        if action.startswith(cls.CUSTOM_PREFIX) and len(action) > len(cls.CUSTOM_PREFIX):
            return action
        return f"{cls.CUSTOM_PREFIX}{action}"


class Event(db.Model):
    """An audit, metrics or error event.

    The columns after `brand` copy parts of the `user` and `context` JSON (the user, or for
    failed logins the username tried; the affected object; the place; the request) into
    indexed columns, so filtering millions of rows never has to scan JSON, and the email,
    ASN and message into plain ones the CSV export reads (see webapp.events.columns).
    """

    __tablename__ = "events"
    # Every filter's index ends in (created, event_uuid), the keyset order, so a filtered page
    # is an index range scan however deep it is.
    __table_args__ = (
        sa.Index("ix_events_created_uuid", "created", "event_uuid"),
        sa.Index("ix_events_action_created", "action", "created", "event_uuid"),
        sa.Index("ix_events_username_created", "username", "created", "event_uuid"),
        sa.Index("ix_events_user_pk_created", "user_pk", "created", "event_uuid"),
        sa.Index("ix_events_client_ip_created", "client_ip", "created", "event_uuid"),
        sa.Index("ix_events_expires", "expires"),
        sa.Index("ix_events_app_created", "app", "created", "event_uuid"),
        # The object's app and name after the keyset columns: a page of one object's events
        # comes from the index alone. Partial: most events are about no object.
        sa.Index("ix_events_model_pk_created", "model_pk", "created", "event_uuid", "model_app",
                 "model_name", postgresql_where=sa.text("model_pk IS NOT NULL"),
                 sqlite_where=sa.text("model_pk IS NOT NULL")),
        # city and action after the keyset columns: the map counts events per place and
        # action over a time range from this index alone, never reading the rows.
        sa.Index("ix_events_country_created", "country", "created", "event_uuid", "city",
                 "action"),
        sa.Index("ix_events_city_created", "city", "created", "event_uuid"),
        sa.Index("ix_events_request_id", "request_id"),
    )

    event_uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    action: Mapped[str] = mapped_column(sa.String(100))
    app: Mapped[str] = mapped_column(sa.String(255))
    context: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)
    brand: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    username: Mapped[str | None] = mapped_column(sa.String(255))
    user_pk: Mapped[int | None] = mapped_column(sa.Integer)
    model_app: Mapped[str | None] = mapped_column(sa.String(100))
    model_name: Mapped[str | None] = mapped_column(sa.String(100))
    model_pk: Mapped[str | None] = mapped_column(sa.String(64))
    country: Mapped[str | None] = mapped_column(sa.String(8))
    city: Mapped[str | None] = mapped_column(sa.String(128))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Unindexed, whole, for the CSV export (webapp.reports.export).
    email: Mapped[str | None] = mapped_column(sa.Text)
    asn: Mapped[str | None] = mapped_column(sa.Text)
    message: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def pk(self) -> str:
        return str(self.event_uuid)

    @property
    def summary(self) -> str:
        """What a notification or a list row says about the event, in words."""
        from webapp.events.summaries import summarize  # the events package imports models

        return summarize(self)

    def __repr__(self) -> str:
        return f"<Event {self.action} {self.event_uuid}>"


class EventHourCount(db.Model):
    """How many events one hour holds, in parts: the sum of an hour's rows is exact.

    Kept by triggers on PostgreSQL (webapp/events/positions.py), in the transaction that adds
    or removes the events, so an API page jumped to deep in the list is found by adding up
    hours instead of skipping millions of index entries. Each writing connection adds to its
    own part (`shard`), so concurrent writers in the same hour do not queue on one row; a
    periodic job folds the parts of past hours into one. Empty on SQLite.
    """

    __tablename__ = "event_hour_counts"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # start, UTC
    shard: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    events: Mapped[int] = mapped_column(sa.BigInteger)
