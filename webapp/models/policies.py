"""Policies and their bindings to notification rules.

One `policies` table holds every policy type (single-table inheritance keyed by `kind`): the
types differ by a few columns, and one table lets a binding point at any policy with one
foreign key. webapp.policies holds their behaviour (a registry keyed by `kind`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db_types import UTCDateTime, utcnow
from webapp.core.extensions import db
from webapp.models.directory import Group, User
from webapp.models.notifications import NotificationRule


class Policy(db.Model):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    #: Record a policy_execution event each time it runs (authentik's execution_logging).
    execution_logging: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Every type's columns load with the row: a binding's policy is compiled at once, without
    # one more query per policy for its subclass columns.
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True,
                       "with_polymorphic": "*"}

    @property
    def pk(self) -> str:
        return str(self.uuid)


class EventMatcherPolicy(Policy):
    """Every configured criterion must match; at least one is required."""

    action: Mapped[str | None] = mapped_column(sa.String(100), use_existing_column=True)
    #: An address or a CIDR network.
    client_ip: Mapped[str | None] = mapped_column(sa.String(64), use_existing_column=True)
    app: Mapped[str | None] = mapped_column(sa.String(255), use_existing_column=True)
    #: `app.model_name`, as in model references inside event contexts.
    model: Mapped[str | None] = mapped_column(sa.String(255), use_existing_column=True)

    __mapper_args__ = {"polymorphic_identity": "event_matcher"}


class ExpressionPolicy(Policy):
    """A Jinja2 sandbox expression over the event; truthy passes."""

    expression: Mapped[str | None] = mapped_column(sa.Text, use_existing_column=True)

    __mapper_args__ = {"polymorphic_identity": "expression"}


class PolicyBinding(db.Model):
    """Ties a policy, a group or a user to a rule. Exactly one of the three is set."""

    __tablename__ = "policy_bindings"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN group_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target"),
        sa.Index("ix_policy_bindings_rule_order", "rule_id", "order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    rule_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_rules.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("groups.num_pk", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    negate: Mapped[bool] = mapped_column(default=False)
    order: Mapped[int] = mapped_column(default=0)
    #: Seconds an expression may run before it counts as failed.
    timeout: Mapped[int] = mapped_column(default=30)
    #: The result when the policy raises or times out.
    failure_result: Mapped[bool] = mapped_column(default=False)

    rule: Mapped[NotificationRule] = relationship(back_populates="bindings")
    policy: Mapped[Policy | None] = relationship()
    group: Mapped[Group | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def pk(self) -> str:
        return str(self.uuid)

    @property
    def name(self) -> str:
        """How the audit log and pages name the binding."""
        target = self.policy or self.group or self.user
        kind = "policy" if self.policy else "group" if self.group else "user"
        label = getattr(target, "name", "") or getattr(target, "username", "")
        return f"{kind} {label}"
