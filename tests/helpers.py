"""Small helpers that make tests read like what a person does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from webapp.core.extensions import db
from webapp.models import Event


@contextmanager
def counted_statements(engine: sa.Engine | None = None) -> Iterator[list[str]]:
    """The SQL statements run inside the block, on `engine` (default: the app context's)."""
    engine = engine if engine is not None else db.engine
    statements: list[str] = []

    def note(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of this client's session, read from a page as a browser would: the
    sign-in form, or once signed in, the plain password page (the Overview it would redirect
    to first rolls up a week of hours, which many tests would pay for with every form)."""
    page = client.get("/auth/login")
    if page.status_code == 302:
        page = client.get("/auth/password")
    match = _CSRF_META.search(page.text)
    assert match, "no csrf-token meta tag on the page"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs):
    """POST a form with the session's CSRF token, as the rendered form would."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)


def login(client: FlaskClient, username: str, password: str, **kwargs):
    return post_form(client, "/auth/login", {"username": username, "password": password},
                     **kwargs)


def events(action: str | None = None) -> list[Event]:
    """Events in the database, oldest first (needs an application context)."""
    db.session.expire_all()
    query = sa.select(Event).order_by(Event.created, Event.event_uuid)
    if action:
        query = query.where(Event.action == action)
    return list(db.session.scalars(query))
