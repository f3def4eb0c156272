"""Factories for test data; each needs an application context and commits what it makes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.accounts import create_token, create_user
from webapp.events import record
from webapp.models import (
    Event,
    EventMatcherPolicy,
    Group,
    NotificationRule,
    NotificationTransport,
    PolicyBinding,
    Token,
    User,
)


def make_user(username: str = "bob", *, password: str = "bob-password-123",
              superuser: bool = False, email: str | None = None, **fields: Any) -> User:
    user = create_user(username, email=email if email is not None else f"{username}@example.com",
                       password=password, is_superuser=superuser)
    for name, value in fields.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def make_token(user: User, **kwargs: Any) -> tuple[Token, str]:
    token, key = create_token(user, **kwargs)
    db.session.commit()
    return token, key


def make_event(action: str = "login", *, created: datetime | None = None,
               expires_in: timedelta | None = None, **context: Any) -> Event:
    event = record(action, context, created=created or utcnow(), app="tests")
    if expires_in is not None:
        event.expires = event.created + expires_in
    db.session.commit()
    return event


def make_transport(name: str = "hook", mode: str = "webhook",
                   **fields: Any) -> NotificationTransport:
    transport = NotificationTransport(name=name, mode=mode, **fields)
    db.session.add(transport)
    db.session.commit()
    return transport


def make_rule(name: str = "rule", *, actions: tuple[str, ...] = ("login_failed",),
              transports: tuple[NotificationTransport, ...] = (), group: Group | None = None,
              **fields: Any) -> NotificationRule:
    """A rule bound to one event-matcher policy per action (any of them fires it)."""
    rule = NotificationRule(name=name, transports=list(transports), destination_group=group,
                            **fields)
    for order, action in enumerate(actions):
        policy = EventMatcherPolicy(name=f"{name}-match-{action}", action=action)
        rule.bindings.append(PolicyBinding(policy=policy, order=order))
    db.session.add(rule)
    db.session.commit()
    return rule


def make_group(name: str = "ops", *members: User) -> Group:
    group = Group(name=name, users=list(members))
    db.session.add(group)
    db.session.commit()
    return group
