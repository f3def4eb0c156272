"""`flask demo` throughput: generating and inserting demo events into a fresh SQLite file.

The raw baseline writes the very same events, already turned into plain tuples, with sqlite3's
executemany into a table of the same shape (same columns and indexes, same chunking and page
cache). The ratio is how much of the database's own speed the demo loader keeps while it also
generates the events and goes through SQLAlchemy.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa

from bench import Measurement, table
from bench.datasets import quiet_event_log
from webapp import create_app
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.demo.generator import generate
from webapp.demo.loader import CHUNK, SQLITE_CACHE_KIB, ensure_directory
from webapp.demo.scenarios import Row
from webapp.demo.world import DemoPlan
from webapp.events.record import current_retention
from webapp.models import Event

EVENTS = 200_000
DAYS = 30
SEED = 1
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = ("event_uuid", "user", "action", "app", "context", "client_ip", "created", "expires",
           "brand", "username", "user_pk")


def run() -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp, quiet_event_log():
        demo_rate, tuples = _demo(Path(tmp) / "demo.sqlite3")
        raw_rate = _raw(Path(tmp) / "raw.sqlite3", tuples)
    return [Measurement(f"flask demo: generate + insert {EVENTS:,} events", demo_rate,
                        "events/s", raw_rate, "sqlite3 executemany of pre-built tuples")]


def _demo(path: Path) -> tuple[float, list[tuple]]:
    """The demo's rate, and the same events as plain tuples for the baseline (not timed)."""
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SCHEDULER": False})
    with app.app_context():
        db.create_all()
        result = load_demo(EVENTS, days=DAYS, until=UNTIL, seed=SEED)
        directory, _ = ensure_directory()
        plan = DemoPlan(EVENTS, DAYS, UNTIL, SEED, current_retention())
        tuples = [_as_tuple(row) for row in generate(plan, directory)]
        db.engine.dispose()
    return result.rate, tuples


def _raw(path: Path, tuples: list[tuple]) -> float:
    engine = sa.create_engine(f"sqlite:///{path}")
    Event.__table__.create(engine)  # the same columns and indexes as the demo's table
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
    placeholders = ", ".join("?" for _ in COLUMNS)
    quoted = ", ".join(f'"{name}"' for name in COLUMNS)
    statement = f"INSERT INTO events ({quoted}) VALUES ({placeholders})"
    started = perf_counter()
    for start in range(0, len(tuples), CHUNK):
        connection.executemany(statement, tuples[start:start + CHUNK])
        connection.commit()
    seconds = perf_counter() - started
    connection.close()
    return len(tuples) / seconds


def _as_tuple(row: Row) -> tuple:
    """A row as SQLite stores it: hex id, JSON text, naive UTC timestamps."""
    return (uuid.uuid4().hex, json.dumps(row["user"]), row["action"], row["app"],
            json.dumps(row["context"]), row["client_ip"], _naive(row["created"]),
            _naive(row["expires"]), json.dumps(row["brand"]), row["username"], row["user_pk"])


def _naive(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(" ")


if __name__ == "__main__":
    print(table(run()))
