"""Migrations: one head, and `flask db upgrade` from empty gives exactly the models' schema."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.factories import insert_first_schema_event
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.directory.name_search import include_name as names_include_name
from webapp.events.columns import copied_columns
from webapp.events.search import include_name as search_include_name

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_there_is_exactly_one_alembic_head():
    script = ScriptDirectory.from_config(_alembic_config())
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_matches_the_models(empty_database: str):
    app = create_app(config_for_tests(empty_database))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    again = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert again.exit_code == 0, again.output  # a second upgrade finds nothing left to do

    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": (
                lambda *args: search_include_name(*args) and names_include_name(*args))})
            differences = compare_metadata(context, db.metadata)
            current = context.get_current_revision()
            tables = set(sa.inspect(connection).get_table_names())
        db.session.remove()
        db.engine.dispose()
    assert differences == []
    assert current == ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert {"events", "users", "groups", "tokens", "settings", "alembic_version"} <= tables


#: (user, context) of events stored before the export columns existed.
OLD_EVENTS = [
    ({"pk": 1, "username": "ann", "email": "ann@example.com"},
     {"asn": {"asn": 3320, "as_org": "DTAG"}, "message": "Bad password"}),
    ({"pk": 2, "username": "bob", "email": None}, {"message": True}),
    ({"username": "AnonymousUser", "is_anonymous": True}, {"message": ["a", 1]}),
    ({"pk": 3, "username": "cy"}, {"model": {"app": "directory", "pk": 3}}),
]


def test_the_export_columns_are_backfilled_from_the_json_of_older_events(empty_database: str):
    """Migration 0010 copies email, ASN and message as record() would have copied them."""
    app = create_app(config_for_tests(empty_database))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0009_name_search"]).exit_code == 0
    with app.app_context():
        keys = [insert_first_schema_event("login", context, user) for user, context in OLD_EVENTS]
        db.session.remove()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    copies = sa.table("events", sa.column("event_uuid", sa.Uuid),
                      *(sa.column(name) for name in ("email", "asn", "message")))
    with app.app_context():
        with db.engine.connect() as connection:
            copied = {row.event_uuid: row for row in connection.execute(sa.select(copies))}
        db.engine.dispose()
    for key, (user, context) in zip(keys, OLD_EVENTS, strict=True):
        expected, stored = copied_columns(user, context), copied[key]
        assert (stored.email, stored.asn) == (expected["email"], expected["asn"])
        assert _same_json_text(stored.message, expected["message"])


def _same_json_text(stored: str | None, expected: str | None) -> bool:
    """Equal, or the same JSON written with other spacing (PostgreSQL's jsonb::text)."""
    if stored is None or expected is None or stored == expected:
        return stored == expected
    return json.loads(stored) == json.loads(expected) and not isinstance(json.loads(stored), str)


def _alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
