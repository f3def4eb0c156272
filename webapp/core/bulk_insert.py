"""Many rows into one table in the session's transaction: COPY on PostgreSQL.

Why COPY: an executemany of a thousand events through psycopg is a thousand-row VALUES
statement with 17,000 parameters to parse and plan; COPY streams the same rows in the
server's bulk format and was about twice as fast for `bulk/` ingest and the demo loader.
SQLite has no COPY; there RETURNING makes SQLAlchemy send multi-row VALUES batches
(insertmanyvalues), one statement per batch instead of one per row, so the FTS5 search index
writes out once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (column values by name, every row with the same names) into `table`."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(sa.insert(table).returning(*table.primary_key.columns), list(rows))
        return
    columns = [table.c[name] for name in rows[0]]
    fields = [(column.key, _to_driver(column, connection.dialect)) for column in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([to(row[key]) for key, to in fields])


def _to_driver(column: sa.Column, dialect: sa.Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy would hand the driver for this column (its type's bind processing:
    aware UTC datetimes, JSON wrapped for jsonb), so COPY stores what INSERT would."""
    return column.type.dialect_impl(dialect).bind_processor(dialect) or _unchanged


def _unchanged(value: Any) -> Any:
    return value
