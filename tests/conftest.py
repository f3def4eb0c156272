"""Fixtures: a fresh database per test, on SQLite or (HERALD_TEST_DATABASE_URI) PostgreSQL.

The schema is created once per run; each test then starts from empty tables, which is as
fresh as a new database and far quicker on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import make_user
from tests.helpers import login
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.system.background import wait_for_tasks

ADMIN_PASSWORD = "admin-password-123"
USER_PASSWORD = "user-password-123"
_schema_ready: set[str] = set()


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    uri = os.environ.get("HERALD_TEST_DATABASE_URI")
    if uri:
        return uri
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'herald-test.sqlite3'}"


@pytest.fixture(scope="session")
def _suite_app(database_uri: str) -> Flask:
    """One application for the whole run: building one compiles every URL rule, which was a
    fifth of a second per test. Each test gets it back as new (see `app`)."""
    return create_app(config_for_tests(database_uri))


@pytest.fixture
def app(_suite_app: Flask) -> Iterator[Flask]:
    """The application on empty tables (API walk cursors included: they live in a table).
    What a test changes in its config or extensions (a page size, a cache) is undone
    afterwards, so each test starts as if the app were new; its connections are closed too."""
    app = _suite_app
    config, extensions = dict(app.config), dict(app.extensions)
    with app.app_context():
        _reset_database(app.config["SQLALCHEMY_DATABASE_URI"])
    yield app
    wait_for_tasks(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    app.config.clear()
    app.config.update(config)
    app.extensions.clear()
    app.extensions.update(extensions)


def _reset_database(uri: str) -> None:
    if uri not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(uri)
        return
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(sa.text(f'DELETE FROM "{name}"'))


@pytest.fixture
def new_app(app: Flask, database_uri: str) -> Iterator[Flask]:
    """An application of its own on the same empty tables, for a test that adds a route (the
    shared one has served requests, after which Flask refuses new routes)."""
    fresh = create_app(config_for_tests(database_uri))
    yield fresh
    wait_for_tasks(fresh)
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for tests that work with the database directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def admin(app: Flask):
    with app.app_context():
        user = make_user("admin", password=ADMIN_PASSWORD, superuser=True,
                         email="admin@example.com")
        return user.id


@pytest.fixture
def regular_user(app: Flask):
    with app.app_context():
        user = make_user("alice", password=USER_PASSWORD, email="alice@example.com")
        return user.id


@pytest.fixture
def admin_client(client: FlaskClient, admin: int) -> FlaskClient:
    response = login(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def user_client(client: FlaskClient, regular_user: int) -> FlaskClient:
    response = login(client, "alice", USER_PASSWORD)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def empty_database(database_uri: str, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of the same kind the suite runs on."""
    if not database_uri.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"herald_migration_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_uri, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(database_uri).set(database=name).render_as_string(
        hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
