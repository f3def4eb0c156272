"""The policy engine: does a notification rule fire for an event?

A rule's enabled bindings are evaluated in `order`; mode "any" passes at the first binding
that passes, "all" fails at the first that fails (later bindings are not evaluated, so their
errors are not recorded either). A rule without enabled bindings never fires (authentik's
event rules use `empty_result = False`).

RuleSet is the compiled form the outbox matcher uses: `RuleSet.load()` once per batch (a few
queries), then `matching(event)` per event without queries, except one group-membership
lookup per distinct event user when group bindings exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp.core.extensions import db
from webapp.models import Event, NotificationRule, PolicyBinding, PolicyEngineMode
from webapp.policies.bindings import CompiledBinding, compile_binding
from webapp.policies.facts import EventFacts
from webapp.policies.membership import Membership


@dataclass(frozen=True, slots=True)
class PolicyResult:
    passing: bool
    messages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: NotificationRule
    require_all: bool
    bindings: tuple[CompiledBinding, ...]
    policy_uuids: frozenset[str]

    def result(self, facts: EventFacts) -> PolicyResult:
        if not self.bindings:
            return PolicyResult(False, ("no enabled bindings",))
        messages: list[str] = []
        for binding in self.bindings:
            passing, message = binding.evaluate(facts)
            if message:
                messages.append(message)
            if passing != self.require_all:  # "any": a pass decides; "all": a failure does
                return PolicyResult(passing, tuple(messages))
        return PolicyResult(self.require_all, tuple(messages))


def compile_rule(rule: NotificationRule, membership: Membership) -> CompiledRule:
    enabled = sorted((b for b in rule.bindings if b.enabled), key=lambda b: (b.order, b.id))
    return CompiledRule(
        rule=rule,
        require_all=rule.policy_engine_mode == PolicyEngineMode.ALL,
        bindings=tuple(compile_binding(binding, membership) for binding in enabled),
        policy_uuids=frozenset(b.policy.pk for b in enabled if b.policy is not None),
    )


class RuleSet:
    """The enabled rules, compiled; valid for one batch of events (it does not see later
    edits, and caches each event user's groups)."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        self.bound_policies = frozenset().union(*(rule.policy_uuids for rule in rules))

    @classmethod
    def load(cls, session: Session | None = None) -> RuleSet:
        session = session or db.session()
        query = (sa.select(NotificationRule).where(NotificationRule.enabled)
                 .order_by(NotificationRule.id)
                 .options(selectinload(NotificationRule.bindings).options(
                     selectinload(PolicyBinding.policy), selectinload(PolicyBinding.group),
                     selectinload(PolicyBinding.user)),
                     selectinload(NotificationRule.transports),
                     selectinload(NotificationRule.destination_group)))
        membership = Membership(session)
        return cls([compile_rule(rule, membership) for rule in session.scalars(query)])

    def matching(self, event: Event) -> list[NotificationRule]:
        if self.caused_by_bound_policy(event):
            return []
        facts = EventFacts(event)
        return [compiled.rule for compiled in self.rules if compiled.result(facts).passing]

    def caused_by_bound_policy(self, event: Event) -> bool:
        """authentik's loop guard: an event a policy recorded (its policy_exception or
        policy_execution) matches no rule when that policy is bound to any rule. Checking
        only the rule's own policies is not enough: two rules with failing policies would
        trigger each other for ever."""
        return (event.context or {}).get("policy_uuid") in self.bound_policies


def rule_result(rule: NotificationRule, event: Event) -> PolicyResult:
    """One rule against one event, with the messages of failing policies (for previews).
    `rule.enabled` is not consulted: a preview shows what a disabled rule would do."""
    return compile_rule(rule, Membership(db.session())).result(EventFacts(event))


def rule_passes(rule: NotificationRule, event: Event) -> bool:
    return rule_result(rule, event).passing
