"""Shared benchmark data: a million `flask demo` events in SQLite and PostgreSQL, built once.

Loading a million events takes about a minute per database, so each dataset is cached (a file
under bench/.cache/, a database on the local PostgreSQL) under a key made from what decides
its content and schema: the demo generator's code, the tables' DDL and the search index's DDL.
A change to any of them builds a new one; a change elsewhere (a query, a view) does not. The
window ends at a fixed instant, so every run measures the same rows.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from webapp import create_app
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.directory.accounts import create_user
from webapp.events import search

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).parent / ".cache"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
SEED = 7
ADMIN, PASSWORD = "bench-admin", "bench-admin-password"  # noqa: S105 (a throwaway database)
#: The code whose change changes the data (the schema is hashed as DDL, see _code_key).
SOURCES = ("webapp/demo", "webapp/events/columns.py")


def demo_app(kind: str, events: int = 1_000_000, days: int = 30) -> Flask | None:
    """An app on the cached dataset (built first if needed), or None when `kind` is
    PostgreSQL and no server answers."""
    uri = _uri(kind, f"{events}-{days}-{SEED}-{_code_key()}")
    if uri is None:
        return None
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri,
                      "SCHEDULER": False})
    with app.app_context(), quiet_event_log():
        if sa.inspect(db.engine).has_table("events") and _complete():
            return app
        print(f"  building the {kind} dataset: {events:,} events over {days} days ...",
              flush=True)
        db.drop_all()
        db.create_all()
        create_user(ADMIN, email="bench@example.com", password=PASSWORD, is_superuser=True)
        db.session.commit()
        load_demo(events, days=days, until=UNTIL, seed=SEED)
        _analyze()
        db.session.execute(sa.text("CREATE TABLE bench_complete (done integer)"))
        db.session.commit()
    return app


def signed_in_client(app: Flask):
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/auth/login").text).group(1)
    response = client.post("/auth/login", data={"username": ADMIN, "password": PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302, "the bench admin could not sign in"
    return client


@contextmanager
def quiet_event_log() -> Iterator[None]:
    """A million JSON event lines would drown the figures."""
    events_log = logging.getLogger("herald.events")
    before = events_log.level
    events_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        events_log.setLevel(before)


def _complete() -> bool:
    return sa.inspect(db.engine).has_table("bench_complete")


def _analyze() -> None:
    """Planner statistics, as `PRAGMA optimize` / autovacuum give a long-running install."""
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _uri(kind: str, key: str) -> str | None:
    name = f"herald_bench_{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    if kind == "sqlite":
        CACHE.mkdir(exist_ok=True)
        return f"sqlite:///{CACHE / (name + '.sqlite3')}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": name})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        print("  PostgreSQL at 127.0.0.1:5432 does not answer; skipping it.", flush=True)
        return None
    finally:
        admin.dispose()
    return f"{POSTGRES}/{name}"


def _code_key() -> str:
    digest = hashlib.sha1()
    for source in SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        for table in db.metadata.sorted_tables:
            digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
            for index in sorted(table.indexes, key=lambda found: found.name or ""):
                digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    for statement in (*search.SQLITE_CREATE, search.SQLITE_FILL, *search.POSTGRESQL_CREATE):
        digest.update(statement.encode())
    return digest.hexdigest()[:12]
