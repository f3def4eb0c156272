"""Make SQLite behave like PostgreSQL where Herald depends on it.

- Foreign keys are enforced (SQLite leaves them off per connection), so deleting a user really
  deletes their tokens instead of leaving orphans.
- `lower()` folds every letter, not only ASCII, so case-insensitive uniqueness and search
  treat "Émile" and "émile" as PostgreSQL does (SQLite's `ilike` is `lower() LIKE lower()`).
- IPv6 networks can be matched in SQL, as PostgreSQL's `inet <<=` does (webapp.events.ip_match).
- Write-ahead logging (WAL): readers and the one writer no longer wait for each other, as on
  PostgreSQL. In the default rollback journal a reader part-way through its rows (an export
  page, a Logs walk, a web worker) keeps the writer (record(), the scheduler, another worker)
  from committing, which after the busy timeout fails with "database is locked". The mode is
  stored in the file; `synchronous` stays FULL, so a commit is as durable as before.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@sa.event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Imported here: this module loads with the extensions, before the events package.
        from webapp.events.ip_match import SQLITE_FUNCTION, ip_in_network

        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        dbapi_connection.create_function(SQLITE_FUNCTION, 2, ip_in_network, deterministic=True)
