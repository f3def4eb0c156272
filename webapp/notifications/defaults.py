"""The transports and rules Herald ships with, as authentik's default blueprint has them.

`flask bootstrap` creates them with the first administrator; migration 0007 creates them in
databases bootstrapped before notifications existed. Both read the data below, so the two
ways in cannot drift apart. The email transport joins the rules only when SMTP is
configured: a rule that queues mail nobody can send would just fill the ledger with dead
deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.models import (
    EventMatcherPolicy,
    Group,
    NotificationRule,
    NotificationTransport,
    PolicyBinding,
    Severity,
    TransportMode,
)

LOCAL_TRANSPORT = "default-local-transport"
EMAIL_TRANSPORT = "default-email-transport"


@dataclass(frozen=True)
class DefaultRule:
    name: str
    #: One event-matcher policy per action, named default-match-<action with dashes>.
    actions: tuple[str, ...]


DEFAULT_RULES = (
    DefaultRule("default-notify-configuration-error", ("configuration_error",)),
    DefaultRule("default-notify-exception",
                ("system_exception", "system_task_exception", "policy_exception")),
)


def policy_name(action: str) -> str:
    return f"default-match-{action.replace('_', '-')}"


def create_defaults(admins: Group, *, email_configured: bool) -> list[NotificationRule]:
    """Create the default transports, matcher policies and rules that are missing; flushes."""
    local = _transport(LOCAL_TRANSPORT, TransportMode.LOCAL)
    email = _transport(EMAIL_TRANSPORT, TransportMode.EMAIL)
    transports = [local, email] if email_configured else [local]
    rules = [_rule(spec, admins, transports) for spec in DEFAULT_RULES]
    db.session.flush()
    return [rule for rule in rules if rule is not None]


def _transport(name: str, mode: TransportMode) -> NotificationTransport:
    existing = db.session.scalar(sa.select(NotificationTransport).where(
        NotificationTransport.name == name))
    if existing is not None:
        return existing
    transport = NotificationTransport(name=name, mode=mode.value)
    db.session.add(transport)
    return transport


def _rule(spec: DefaultRule, admins: Group,
          transports: list[NotificationTransport]) -> NotificationRule | None:
    if db.session.scalar(sa.select(NotificationRule.id).where(
            NotificationRule.name == spec.name)) is not None:
        return None
    rule = NotificationRule(name=spec.name, severity=Severity.ALERT.value,
                            destination_group=admins, transports=transports)
    for order, action in enumerate(spec.actions):
        rule.bindings.append(PolicyBinding(policy=_matcher(action), order=order))
    db.session.add(rule)
    return rule


def _matcher(action: str) -> EventMatcherPolicy:
    name = policy_name(action)
    existing = db.session.scalar(sa.select(EventMatcherPolicy).where(
        EventMatcherPolicy.name == name))
    return existing or EventMatcherPolicy(name=name, action=action)
