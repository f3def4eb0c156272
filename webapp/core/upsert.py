"""INSERT ... ON CONFLICT for both databases: the one statement that lets several processes
bump a counter or claim a key at once without read-then-write races."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from webapp.core.extensions import db


def dialect_insert(model: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert for `model` that offers `on_conflict_do_update` on SQLite and PostgreSQL."""
    dialect = db.session.get_bind(mapper=model.__mapper__).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model)
