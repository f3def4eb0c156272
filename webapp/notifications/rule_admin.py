"""Administering notification rules: the list with statistics, saving a rule together with its
bindings (an inline event matcher included), and the preview.

A RuleSpec is a rule as an administrator has configured it, saved or not: the pages build one
from the submitted form, so saving and previewing read exactly the same state, and a rule can
be previewed before its first save.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from webapp.core.extensions import db
from webapp.models import (
    Event,
    EventMatcherPolicy,
    Group,
    NotificationRule,
    NotificationTransport,
    Policy,
    PolicyBinding,
    User,
)
from webapp.notifications import rule_stats
from webapp.policies.engine import compile_rule
from webapp.policies.event_view import event_variables
from webapp.policies.facts import EventFacts
from webapp.policies.membership import Membership
from webapp.policies.sandbox import SandboxError, render

PREVIEW_EVENTS = 1_000
#: Matches listed by the preview; the count covers all of them.
PREVIEW_ROWS = 100


@dataclass(frozen=True, slots=True)
class NewMatcher:
    """An event-matcher policy to create together with the binding that uses it."""

    name: str
    action: str | None = None
    client_ip: str | None = None
    app: str | None = None
    model: str | None = None


@dataclass(slots=True)
class BindingSpec:
    target: Policy | Group | User | NewMatcher
    enabled: bool = True
    negate: bool = False
    order: int = 0
    timeout: int = 30
    failure_result: bool = False
    #: The saved binding this updates; None adds one.
    binding_id: int | None = None


@dataclass(slots=True)
class RuleSpec:
    name: str
    enabled: bool = True
    severity: str = "notice"
    destination_group: Group | None = None
    destination_event_user: bool = False
    policy_engine_mode: str = "any"
    throttle_minutes: int = 0
    throttle_key: str = ""
    transports: list[NotificationTransport] = field(default_factory=list)
    bindings: list[BindingSpec] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: NotificationRule
    matched: int
    suppressed: int


@dataclass(frozen=True, slots=True)
class PreviewMatch:
    """Plain values: the preview's session is rolled back before the page renders."""

    pk: str
    action: str
    username: str
    client_ip: str | None
    created: datetime


@dataclass(frozen=True, slots=True)
class Preview:
    scanned: int
    match_count: int
    matches: list[PreviewMatch]
    elapsed_ms: float
    #: Policy errors and notes, each with the number of events it occurred on.
    messages: list[tuple[str, int]]


def rule_rows(now: datetime) -> list[RuleRow]:
    """Every rule with what the list shows, in three queries whatever the number of rules."""
    rules = db.session.scalars(
        sa.select(NotificationRule).order_by(NotificationRule.name)
        .options(selectinload(NotificationRule.transports),
                 selectinload(NotificationRule.bindings),
                 selectinload(NotificationRule.destination_group)))
    stats = rule_stats.last_day(now)
    return [RuleRow(rule, *stats.get(rule.id, (0, 0))) for rule in rules]


def create_rule(spec: RuleSpec) -> NotificationRule:
    rule = NotificationRule()
    apply_spec(rule, spec)
    db.session.add(rule)
    return rule


def apply_spec(rule: NotificationRule, spec: RuleSpec) -> None:
    """Make `rule` what `spec` says. Bindings named by `binding_id` are updated in place, so
    the audit log shows what changed in them rather than a delete and a create."""
    for name in ("name", "enabled", "severity", "destination_group", "destination_event_user",
                 "policy_engine_mode", "throttle_minutes", "throttle_key"):
        setattr(rule, name, getattr(spec, name))
    rule.transports = list(spec.transports)
    saved = {binding.id: binding for binding in rule.bindings}
    rule.bindings = [_binding(saved.get(item.binding_id) or PolicyBinding(), item)
                     for item in spec.bindings]


def _binding(binding: PolicyBinding, spec: BindingSpec) -> PolicyBinding:
    target = spec.target
    if isinstance(target, NewMatcher):
        target = EventMatcherPolicy(name=target.name, action=target.action,
                                    client_ip=target.client_ip, app=target.app,
                                    model=target.model)
    # Ids as well as objects: the engine reads group_id and user_id, which an unsaved
    # binding (a preview's) would otherwise only get at a flush.
    binding.policy = target if isinstance(target, Policy) else None
    binding.group = target if isinstance(target, Group) else None
    binding.group_id = binding.group.num_pk if binding.group else None
    binding.user = target if isinstance(target, User) else None
    binding.user_id = binding.user.id if binding.user else None
    for name in ("enabled", "negate", "order", "timeout", "failure_result"):
        setattr(binding, name, getattr(spec, name))
    return binding


def preview(spec: RuleSpec, limit: int = PREVIEW_EVENTS) -> Preview:
    """Run the rule as configured over the newest `limit` events, whether enabled or not.

    Nothing is written: the rule is built in memory and never added to the session, and the
    session is rolled back afterwards, which also drops the policy_exception events a failing
    policy records while it is evaluated.
    """
    started = time.perf_counter()
    try:
        with db.session.no_autoflush:
            rule = _unsaved(spec)
            compiled = compile_rule(rule, Membership(db.session()))
            events = db.session.scalars(
                sa.select(Event).order_by(Event.created.desc(), Event.event_uuid.desc())
                .limit(limit)).all()
            results = [(event, compiled.result(EventFacts(event))) for event in events]
            matched = [_match(event) for event, result in results if result.passing]
            messages = Counter(message for _, result in results for message in result.messages)
    finally:
        db.session.rollback()
    return Preview(scanned=len(events), match_count=len(matched), matches=matched[:PREVIEW_ROWS],
                   elapsed_ms=(time.perf_counter() - started) * 1000,
                   messages=messages.most_common())


def _unsaved(spec: RuleSpec) -> NotificationRule:
    """The rule in memory. Orders are made distinct in form order, since unsaved bindings
    have no id to break ties with (saved ones break them by id, which is their form order)."""
    ranked = sorted(enumerate(spec.bindings), key=lambda pair: (pair[1].order, pair[0]))
    rule = NotificationRule(policy_engine_mode=spec.policy_engine_mode)
    rule.bindings = [_binding(PolicyBinding(), item) for _, item in ranked]
    for rank, binding in enumerate(rule.bindings):
        binding.order = rank
    return rule


def _match(event: Event) -> PreviewMatch:
    return PreviewMatch(pk=str(event.event_uuid), action=event.action,
                        username=(event.user or {}).get("username") or event.username or "",
                        client_ip=event.client_ip, created=event.created)


def throttle_key_error(template: str) -> str | None:
    """Why the throttle key would not render, tried on the newest event (or an empty one)."""
    newest = db.session.scalar(sa.select(Event).order_by(Event.created.desc()).limit(1))
    variables = event_variables(newest) if newest else {"event": {}}
    try:
        render(template, variables, timeout=0.5)
    except SandboxError as exc:
        return str(exc)
    return None


def unique_policy_name(base: str, taken: set[str] | None = None) -> str:
    """`base`, or `base (2)`, `(3)`... whichever no policy (nor `taken`) has yet."""
    taken = {name.lower() for name in taken or ()}
    existing = {name.lower() for name in db.session.scalars(
        sa.select(Policy.name).where(Policy.name.like(f"{base[:140]}%")))}
    candidate, number = base[:140], 1
    while candidate.lower() in existing | taken:
        number += 1
        candidate = f"{base[:140]} ({number})"
    return candidate
