"""Migrations: one head, and `flask db upgrade` from empty gives exactly the models' schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.directory.name_search import include_name as names_include_name
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


def _alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
