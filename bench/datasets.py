"""Shared benchmark data and databases: which databases to run on, the cached `flask demo`
datasets, and empty scratch databases.

- `HERALD_BENCH_DATABASES` (default `sqlite,postgresql`) names the databases every benchmark
  runs on; PostgreSQL is the local server at 127.0.0.1:5432, skipped with a line saying so when
  it does not answer.
- `HERALD_BENCH_EVENTS` (default 1,000,000) is the size of the demo datasets.

Loading a million events takes about a minute per database, so each dataset is cached (a file
under bench/.cache/, a database on the local PostgreSQL) under a key made from what decides
its content and schema: its size, the demo generator's code, the tables' DDL, and the DDL of
the search index and of the hour counts' triggers. A change to any of them builds a new one;
a change elsewhere (a query, a view) does not. The window ends at a fixed instant, so every
run measures the same rows; only the Overview's dataset follows the clock (its window is the
last 24 hours) and is rebuilt when it has aged.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import time

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from webapp import create_app
from webapp.core.extensions import db
from webapp.core.log_setup import EVENTS_LOGGER
from webapp.demo import load_demo
from webapp.directory.accounts import create_user
from webapp.events import positions, search

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).parent / ".cache"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
KINDS = ("sqlite", "postgresql")
EVENTS = int(os.environ.get("HERALD_BENCH_EVENTS", "1000000"))
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
SEED = 7
ADMIN, PASSWORD = "bench-admin", "bench-admin-password"  # noqa: S105 (a throwaway database)
#: The code whose change changes the data (the schema is hashed as DDL, see _code_key).
SOURCES = ("webapp/demo", "webapp/events/columns.py")


def requested_databases() -> tuple[str, ...]:
    names = tuple(name.strip() for name in
                  os.environ.get("HERALD_BENCH_DATABASES", ",".join(KINDS)).split(",")
                  if name.strip())
    unknown = set(names) - set(KINDS)
    if unknown:
        raise SystemExit(f"HERALD_BENCH_DATABASES: unknown {', '.join(sorted(unknown))} "
                         f"(choose from {', '.join(KINDS)})")
    return names


@functools.cache
def databases() -> tuple[str, ...]:
    """The requested databases that answer; asked once per process, so the line saying
    PostgreSQL was skipped is printed once."""
    found = []
    for kind in requested_databases():
        if kind == "postgresql" and not _postgres_answers():
            print("  PostgreSQL at 127.0.0.1:5432 does not answer: skipped, only "
                  f"{', '.join(k for k in requested_databases() if k != kind) or 'nothing'} "
                  "is measured.", flush=True)
            continue
        found.append(kind)
    return tuple(found)


def bench_app(uri: str) -> Flask:
    """Herald on `uri`, as the benchmarks run it: no scheduler of its own, and no JSON line
    on stderr per event (a million of them would drown the figures). The first app of a
    process configures logging, so the event log is quietened after it."""
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri,
                      "SCHEDULER": False})
    logging.getLogger(EVENTS_LOGGER).setLevel(logging.WARNING)
    return app


def demo_app(kind: str, events: int = EVENTS, days: int = 30) -> Flask:
    """An app on the cached dataset of `events` demo events over the `days` before UNTIL
    (built first if needed)."""
    key = f"{events}-{days}-{SEED}-{_code_key()}"
    return _dataset_app(kind, key, events, days, until=UNTIL, max_age=None)


def day_app(kind: str, events: int = EVENTS, max_age: timedelta = timedelta(hours=3)) -> Flask:
    """An app on `events` demo events over the 24 hours before the dataset was built, built
    again when it is older than `max_age` (too much of its day has slid out of the window)."""
    key = f"{events}-day-{SEED}-{_code_key()}"
    return _dataset_app(kind, key, events, days=1, until=datetime.now(UTC), max_age=max_age)


@contextmanager
def scratch_app(kind: str, *, search_index: bool = True) -> Iterator[Flask]:
    """An app on a new, empty database with Herald's tables, removed afterwards. Without the
    `search_index`, writing costs what the rows and their indexes cost, and no more (the raw
    baselines' table, and bench_search's comparison)."""
    with _scratch_uri(kind) as uri:
        app = bench_app(uri)
        with app.app_context():
            db.create_all()
            if not search_index:
                with db.engine.begin() as connection:
                    search.drop_search_index(connection)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@contextmanager
def copy_app(kind: str, source: Flask) -> Iterator[Flask]:
    """An app on a copy of `source`'s dataset, removed afterwards: for benchmarks that delete
    or rewrite rows, which must leave the cached dataset as it was. PostgreSQL copies the
    database's files (STRATEGY FILE_COPY, not a WAL record per page: 24 GB at 10M events);
    SQLite copies the file once its write-ahead log is folded in."""
    with source.app_context():
        if kind == "sqlite":
            db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
        source_url = db.engine.url
    with _scratch_uri(kind) as uri:
        if kind == "sqlite":
            shutil.copyfile(source_url.database, sa.make_url(uri).database)
        else:
            name = sa.make_url(uri).database
            with _postgres_admin() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{name}"'))
                # A template must have no sessions: close the idle pooled connections that
                # the other benchmarks' apps on this dataset keep (they reconnect: pre-ping).
                connection.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :source AND pid <> pg_backend_pid()"),
                    {"source": source_url.database})
                connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE '
                                           f'"{source_url.database}" STRATEGY FILE_COPY'))
        app = bench_app(uri)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def signed_in_client(app: Flask, username: str = ADMIN,
                     password: str = PASSWORD) -> FlaskClient:
    """Signed in through the form, so the session is exactly a browser's."""
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/auth/login").text).group(1)
    response = client.post("/auth/login", data={"username": username, "password": password,
                                                "csrf_token": token})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def _dataset_app(kind: str, key: str, events: int, days: int, *, until: datetime,
                 max_age: timedelta | None) -> Flask:
    name = f"herald_bench_{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    if kind == "sqlite":
        CACHE.mkdir(exist_ok=True)
        uri = f"sqlite:///{CACHE / (name + '.sqlite3')}"
    else:
        uri = _postgres_database(name)
    app = bench_app(uri)
    with app.app_context():
        built = _built_at()
        if built is not None and (max_age is None or datetime.now(UTC) - built < max_age):
            return app
        print(f"  building the {kind} dataset: {events:,} events over {days} days ...",
              flush=True)
        db.session.execute(sa.text("DROP TABLE IF EXISTS bench_complete"))
        db.session.commit()
        db.drop_all()
        db.create_all()
        create_user(ADMIN, email="bench@example.com", password=PASSWORD, is_superuser=True)
        db.session.commit()
        load_demo(events, days=days, until=until, seed=SEED)
        _analyze()
        db.session.execute(sa.text("CREATE TABLE bench_complete (done integer)"))
        db.session.execute(sa.text("INSERT INTO bench_complete VALUES (:now)"),
                           {"now": int(time())})
        db.session.commit()
    return app


def _built_at() -> datetime | None:
    """When the dataset was completed (the epoch for one that does not say), or None while
    it is missing or half built."""
    if not sa.inspect(db.engine).has_table("bench_complete"):
        return None
    built = db.session.scalar(sa.text("SELECT max(done) FROM bench_complete"))
    db.session.rollback()
    return datetime.fromtimestamp(built or 0, UTC)


def _analyze() -> None:
    """Planner statistics, as `PRAGMA optimize` / autovacuum give a long-running install. On
    PostgreSQL also the visibility map that autovacuum keeps (VACUUM): without it a count is
    no index-only scan and reads every row (3.3 s instead of 0.35 s at a million events)."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


@contextmanager
def _scratch_uri(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}"
        return
    name = f"herald_bench_scratch_{uuid.uuid4().hex[:12]}"
    uri = _postgres_database(name)
    try:
        yield uri
    finally:
        with _postgres_admin() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _postgres_database(name: str) -> str:
    with _postgres_admin() as connection:
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                   {"n": name})
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return f"{POSTGRES}/{name}"


def _postgres_answers() -> bool:
    try:
        with _postgres_admin():
            return True
    except sa.exc.OperationalError:
        return False


@contextmanager
def _postgres_admin() -> Iterator[sa.Connection]:
    engine = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


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
    for statement in (*search.SQLITE_CREATE, search.SQLITE_FILL, *search.POSTGRESQL_CREATE,
                      *positions.POSTGRESQL_CREATE):
        digest.update(statement.encode())
    return digest.hexdigest()[:12]
