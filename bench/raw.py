"""The raw baselines' side: the database driver's own connection and SQL, with no Flask, ORM or
Herald code in between.

Connections come from the app's engine (`raw_connection()`): the bare sqlite3 or psycopg
connection, opened with the settings Herald's own connections get (SQLite's pragmas and
functions), so a baseline writes with the same durability and reads the same way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from time import perf_counter
from typing import Any

from flask import Flask

from webapp.core.extensions import db

#: How SQLAlchemy stores a datetime in SQLite (naive UTC, always with microseconds).
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


@contextmanager
def connection(app: Flask) -> Iterator[Any]:
    """The driver's connection (sqlite3 or psycopg), closed afterwards."""
    with app.app_context():
        raw = db.engine.raw_connection()
    try:
        yield raw.driver_connection
    finally:
        raw.close()


def marker(kind: str) -> str:
    """The driver's placeholder for a positional parameter."""
    return "?" if kind == "sqlite" else "%s"


def driver_value(kind: str, value: Any) -> Any:
    """A column value as Herald's column types hand it to the driver: JSON as text, UUIDs as
    32 hex digits and datetimes as naive UTC text on SQLite."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum (an action) as the plain string
    if kind != "sqlite":
        return value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).strftime(SQLITE_DATETIME)
    return value


def insert_rate(app: Flask, kind: str, rows: Sequence[dict[str, Any]], chunk: int,
                setup: Sequence[str] = ()) -> float:
    """Rows per second of the driver's executemany of `rows` into `events`, one transaction
    per `chunk` rows, after the `setup` statements (e.g. a page cache as the measured code
    sets). The rows become driver values first, untimed: the baseline is the database's
    work, not the preparing."""
    columns = list(rows[0])
    values = [tuple(driver_value(kind, row[name]) for name in columns) for row in rows]
    quoted = ", ".join(f'"{name}"' for name in columns)
    statement = (f"INSERT INTO events ({quoted}) "
                 f"VALUES ({', '.join(marker(kind) for _ in columns)})")
    with connection(app) as raw:
        cursor = raw.cursor()
        for statement_before in setup:
            cursor.execute(statement_before)
        started = perf_counter()
        for start in range(0, len(values), chunk):
            cursor.executemany(statement, values[start:start + chunk])
            raw.commit()
        seconds = perf_counter() - started
        cursor.close()
    return len(values) / seconds
