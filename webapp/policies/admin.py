"""Administering policies: listing, saving with validation, the expression tester, and the
values the event-matcher dropdowns offer.

Pages, the API and the CLI call these; none of them needs a request. Saving validates again
what the forms validate, so no caller can store a policy that silently never matches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.events.filters import KNOWN_ACTIONS
from webapp.models import (
    Event,
    EventMatcherPolicy,
    ExpressionPolicy,
    NotificationRule,
    Policy,
    PolicyBinding,
)
from webapp.policies.event_matcher import validate_event_matcher
from webapp.policies.event_view import event_variables
from webapp.policies.sandbox import SandboxError, check, evaluate
from webapp.reports.palette import grouped

KINDS = {"event_matcher": "Event matcher", "expression": "Expression"}
MATCHER_FIELDS = ("action", "client_ip", "app", "model")
#: Dropdowns offer the values seen among this many newest events: an index range on
#: `created`, so the cost does not grow with the table.
SEEN_WINDOW = 10_000
TEST_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class PolicyRow:
    policy: Policy
    rule_count: int

    @property
    def kind_label(self) -> str:
        return KINDS[self.policy.kind]


@dataclass(frozen=True, slots=True)
class ExpressionOutcome:
    """What the tester shows: the value, or the sandbox's error, and the time it took."""

    value: Any
    error: str | None
    elapsed_ms: float

    @property
    def passing(self) -> bool:
        return self.error is None and bool(self.value)


def policy_rows() -> list[PolicyRow]:
    """Every policy with the number of rules it is bound to, in one query."""
    rule_count = (sa.select(sa.func.count(sa.distinct(PolicyBinding.rule_id)))
                  .where(PolicyBinding.policy_id == Policy.id).scalar_subquery())
    rows = db.session.execute(sa.select(Policy, rule_count).order_by(Policy.name))
    return [PolicyRow(policy, count) for policy, count in rows]


def rules_using(policy: Policy) -> list[NotificationRule]:
    return list(db.session.scalars(
        sa.select(NotificationRule).join(PolicyBinding)
        .where(PolicyBinding.policy_id == policy.id).distinct().order_by(NotificationRule.name)))


def save_event_matcher(policy: EventMatcherPolicy | None, *, name: str,
                       execution_logging: bool = False, **criteria: str | None,
                       ) -> EventMatcherPolicy:
    """Create (policy None) or update a matcher; raises PolicyConfigError when it is unusable."""
    values = {field: criteria.get(field) or None for field in MATCHER_FIELDS}
    validate_event_matcher(**values)
    policy = policy or _added(EventMatcherPolicy())
    policy.name, policy.execution_logging = name, execution_logging
    for field, value in values.items():
        setattr(policy, field, value)
    return policy


def save_expression(policy: ExpressionPolicy | None, *, name: str, expression: str,
                    execution_logging: bool = False) -> ExpressionPolicy:
    """Create or update an expression policy; raises SandboxError when it does not parse or
    reaches for private attributes."""
    check(expression, expression=True)
    policy = policy or _added(ExpressionPolicy())
    policy.name, policy.expression = name, expression
    policy.execution_logging = execution_logging
    return policy


def _added(policy: Any) -> Any:
    db.session.add(policy)
    return policy


def try_expression(expression: str, event: Event) -> ExpressionOutcome:
    """Run an (unsaved) expression against one event, as a binding would, without recording
    anything: an error is shown, not logged as a policy_exception."""
    started = time.perf_counter()
    try:
        value, error = evaluate(expression, event_variables(event), timeout=TEST_TIMEOUT), None
    except SandboxError as exc:
        value, error = None, str(exc)
    return ExpressionOutcome(value, error, (time.perf_counter() - started) * 1000)


def recent_events(limit: int = 50) -> list[Event]:
    return list(db.session.scalars(
        sa.select(Event).order_by(Event.created.desc(), Event.event_uuid.desc()).limit(limit)))


def action_choices() -> dict[str, list[str]]:
    """Known actions plus custom ones seen lately, grouped by the palette's categories."""
    seen = _seen(Event.action)
    return grouped(sorted(set(KNOWN_ACTIONS) | {a for a in seen if a not in KNOWN_ACTIONS}))


def seen_apps() -> list[str]:
    return _seen(Event.app)


def seen_models() -> list[str]:
    """Model labels (`app.model_name`) of the objects recent events were about."""
    label = Event.model_app + "." + Event.model_name
    return _seen(label, Event.model_app.is_not(None), Event.model_name.is_not(None))


def _seen(column: sa.ColumnElement[str], *conditions: sa.ColumnElement[bool]) -> list[str]:
    newest = (sa.select(Event.event_uuid).order_by(Event.created.desc())
              .limit(SEEN_WINDOW).subquery())
    query = (sa.select(column).distinct().where(Event.event_uuid.in_(sa.select(newest)),
                                                column.is_not(None), *conditions)
             .order_by(column))
    return list(db.session.scalars(query))
