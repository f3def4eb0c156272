"""Factories for test data; each needs an application context and commits what it makes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from webapp.core.db_types import PortableJSON, UTCDateTime, utcnow
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


#: The events table as migration 0001 made it: rows written through it fit every later schema,
#: where the Event model (always the newest schema) would not, in a test of an old migration.
FIRST_EVENTS = sa.table("events", sa.column("event_uuid", sa.Uuid), sa.column("action"),
                        sa.column("app"), *(sa.column(name, PortableJSON) for name in (
                            "user", "context", "brand")),
                        *(sa.column(name, UTCDateTime) for name in ("created", "expires")))


def insert_first_schema_event(action: str, context: dict[str, Any],
                              user: dict[str, Any] | None = None) -> uuid.UUID:
    """An event row of 0001's columns only, as a Herald of that time stored it."""
    now, key = utcnow(), uuid.uuid4()
    db.session.execute(FIRST_EVENTS.insert().values(
        event_uuid=key, action=action, app="tests", user=user or {}, context=context, brand={},
        created=now, expires=now + timedelta(days=1)))
    db.session.commit()
    return key


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


def insert_users(count: int) -> None:
    """`count` users in one INSERT ... SELECT from a temporary table filled by executemany:
    SQLite's name index, written by a trigger, then flushes once rather than once per row."""
    users = User.__table__
    columns = [column for column in users.columns if not column.primary_key]
    staging = sa.Table("staging_users", sa.MetaData(),
                       *(sa.Column(column.name, column.type) for column in columns),
                       prefixes=["TEMPORARY"])
    defaults = {column.name: column.default.arg(None) if column.default.is_callable
                else column.default.arg for column in columns if column.default is not None}
    rows = [{**defaults, "uuid": uuid.uuid4(), "username": f"user{n:06d}",
             "email": f"user{n:06d}@example.org", "name": f"Person {n}"} for n in range(count)]
    connection = db.session.connection()
    staging.create(connection)
    connection.execute(staging.insert(), rows)
    connection.execute(sa.insert(users).from_select([column.name for column in columns],
                                                    sa.select(staging)))
    staging.drop(connection)
    db.session.commit()
    if connection.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: the planner learns how common a
        # search's words are, and reads the index for rare ones and the table for common ones.
        db.session.execute(sa.text("ANALYZE users"))
        db.session.commit()
