"""The policy engine: whether a notification rule fires for an event.

Bindings run in order; disabled ones are skipped; negate inverts; "any" needs one passing
binding, "all" needs every one; a rule without enabled bindings never fires; a failing
expression records policy_exception and takes its binding's failure result.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.factories import make_group, make_rule, make_user
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import (
    Event,
    EventMatcherPolicy,
    ExpressionPolicy,
    Group,
    NotificationRule,
    PolicyBinding,
    User,
)
from webapp.policies import RuleSet, rule_passes, rule_result

pytestmark = pytest.mark.usefixtures("ctx")


def matcher(action: str, **binding: Any) -> PolicyBinding:
    return PolicyBinding(policy=EventMatcherPolicy(name=f"match-{action}-{_next()}",
                                                   action=action), **binding)


def expression(source: str, **binding: Any) -> PolicyBinding:
    return PolicyBinding(policy=ExpressionPolicy(name=f"expr-{_next()}", expression=source),
                         **binding)


def rule(*bindings: PolicyBinding, mode: str = "any", name: str | None = None,
         ) -> NotificationRule:
    made = NotificationRule(name=name or f"rule-{_next()}", policy_engine_mode=mode)
    for order, binding in enumerate(bindings):
        binding.order = order
        made.bindings.append(binding)
    db.session.add(made)
    db.session.commit()
    return made


def event(action: str = "login_failed", user: User | None = None, **context: Any) -> Event:
    made = record(action, context, app="tests", user=user, client_ip="192.0.2.10")
    db.session.commit()
    return made


def exceptions() -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.action == "policy_exception")))


_counter = iter(range(1_000_000))


def _next() -> int:
    return next(_counter)


def test_a_rule_without_bindings_never_fires() -> None:
    assert not rule_passes(rule(), event())


def test_a_rule_whose_bindings_are_all_disabled_never_fires() -> None:
    assert not rule_passes(rule(matcher("login_failed", enabled=False)), event())


def test_any_mode_needs_one_passing_binding() -> None:
    either = rule(matcher("login"), matcher("login_failed"), mode="any")
    assert rule_passes(either, event("login_failed"))
    assert not rule_passes(either, event("logout"))


def test_all_mode_needs_every_binding() -> None:
    both = rule(matcher("login_failed"), expression("event.context.attempts > 3"), mode="all")
    assert rule_passes(both, event("login_failed", attempts=5))
    assert not rule_passes(both, event("login_failed", attempts=1))
    assert not rule_passes(both, event("login", attempts=5))


def test_negate_inverts_a_binding() -> None:
    not_login = rule(matcher("login", negate=True))
    assert rule_passes(not_login, event("logout"))
    assert not rule_passes(not_login, event("login"))


def test_disabled_bindings_are_skipped_in_all_mode() -> None:
    passes_without_the_disabled = rule(matcher("login_failed"), matcher("never", enabled=False),
                                       mode="all")
    assert rule_passes(passes_without_the_disabled, event("login_failed"))


def test_user_binding_passes_for_that_users_events_only() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alices = rule(PolicyBinding(user=alice))
    assert rule_passes(alices, event(user=alice))
    assert not rule_passes(alices, event(user=bob))
    assert not rule_passes(alices, event(user={}))


def test_group_binding_counts_members_of_the_group_and_of_its_subgroups() -> None:
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    staff = make_group("staff", alice)
    make_group_below(staff, "oncall", bob)
    staff_rule = rule(PolicyBinding(group=staff))
    assert rule_passes(staff_rule, event(user=alice))
    assert rule_passes(staff_rule, event(user=bob))
    assert not rule_passes(staff_rule, event(user=carol))
    assert not rule_passes(staff_rule, event(user={}))


def make_group_below(parent: Group, name: str, *members: User) -> Group:
    child = make_group(name, *members)
    child.parent = parent
    db.session.commit()
    return child


def test_bindings_run_in_order_and_any_mode_stops_at_the_first_pass() -> None:
    passing_first = rule(matcher("login_failed"), expression("1 / 0"))
    assert rule_passes(passing_first, event())
    assert exceptions() == []


def test_a_failing_expression_records_policy_exception_and_takes_the_failure_result() -> None:
    fail_open = rule(expression("1 / 0", failure_result=True))
    fail_closed = rule(expression("1 / 0", failure_result=False))
    source = event()
    assert rule_passes(fail_open, source)
    assert not rule_passes(fail_closed, source)
    db.session.commit()
    recorded = exceptions()
    assert len(recorded) == 2
    policy = fail_open.bindings[0].policy
    first = next(e for e in recorded if e.context["policy"]["name"] == policy.name)
    assert first.app == "herald.policies"
    assert first.context["policy_uuid"] == policy.pk
    assert first.context["message"] == "ZeroDivisionError: division by zero"
    assert first.context["event"] == {"pk": source.pk, "action": "login_failed"}


def test_negate_applies_after_the_failure_result_as_in_authentik() -> None:
    assert rule_passes(rule(expression("1 / 0", failure_result=False, negate=True)), event())


def test_an_expression_over_its_binding_timeout_fails_with_the_failure_result() -> None:
    slow = "range(100000)|select('in', range(100000)|list)|list|length"
    result = rule_result(rule(expression(slow, timeout=1, failure_result=True)), event())
    assert result.passing
    assert "stopped after 1 s" in result.messages[0]
    db.session.commit()
    assert exceptions()[0].context["message"] == "stopped after 1 s"


def test_an_escape_attempt_is_a_policy_failure_not_a_crash() -> None:
    result = rule_result(rule(expression("event.__class__.__mro__")), event())
    assert not result.passing
    assert "is not allowed" in result.messages[0]


def test_expressions_see_the_event_and_the_ip_helpers() -> None:
    internal = rule(expression(
        "ip_address(event.client_ip) in ip_network('192.0.2.0/24')"
        " and ak_client_ip.version == 4 and event.user.username == 'alice'"))
    alice = make_user("alice")
    assert rule_passes(internal, event(user=alice))
    assert not rule_passes(internal, event(user=make_user("bob")))


def test_ruleset_loads_enabled_rules_only_and_returns_those_that_match() -> None:
    failed = make_rule("failed", actions=("login_failed",))
    make_rule("any-login", actions=("login", "login_failed"))
    make_rule("off", actions=("login_failed",), enabled=False)
    rules = RuleSet.load()
    assert sorted(r.name for r in rules.matching(event("login_failed"))) == ["any-login",
                                                                            "failed"]
    assert [r.name for r in rules.matching(event("login"))] == ["any-login"]
    assert failed in rules.matching(event("login_failed"))


def test_ruleset_matches_without_queries_except_one_membership_lookup_per_user() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    staff = make_group("staff", alice)
    for number in range(20):
        rule(matcher("login_failed"), PolicyBinding(group=staff), mode="all",
             name=f"r{number}")
    events = [event(user=alice), event(user=alice), event(user=bob), event("login", user=bob)]
    rules = RuleSet.load()
    for loaded in events:
        db.session.refresh(loaded)  # as the outbox hands them over: loaded, not expired
    with count_queries() as queries:
        matched = [len(rules.matching(e)) for e in events]
    assert matched == [20, 20, 0, 0]
    membership_reads = 1 + 2  # the group tree once, then each distinct user's groups once
    assert len(queries) == membership_reads


def test_an_exception_of_a_bound_policy_matches_no_rule_at_all() -> None:
    """authentik's loop guard: not even a catch-all rule sees it, or two rules with broken
    policies would trigger each other for ever."""
    broken = rule(expression("1 / 0", failure_result=True))
    catch_all = rule(expression("true"))
    rules = RuleSet.load()
    assert rules.matching(event()) == [broken, catch_all]
    db.session.commit()
    failure = exceptions()[0]
    assert rules.matching(failure) == []


class count_queries:  # noqa: N801 - reads as a function at the call site
    def __enter__(self) -> list[str]:
        self.statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", self._seen)
        return self.statements

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.statements.append(statement)
