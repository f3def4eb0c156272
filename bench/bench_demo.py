"""`flask demo` throughput: generating and inserting demo events into a fresh database, on
every database of the run (bench.datasets).

The raw baseline writes the very same events, already turned into the values the driver
takes, with the driver's executemany into an events table with the same columns and indexes
but no search index, in the loader's chunks (one transaction each) and, on SQLite, with its
page cache. The ratio is how much of the database's own speed the demo loader keeps while it
also generates the events, goes through SQLAlchemy and keeps the search index. Target (issue
#3): a million events in under 2 minutes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from bench import Measurement, at_least, table
from bench.datasets import databases, scratch_app
from bench.raw import insert_rate
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.demo.generator import generate
from webapp.demo.loader import CHUNK, SQLITE_CACHE_KIB, ensure_directory
from webapp.demo.world import DemoPlan
from webapp.events.record import current_retention

EVENTS = 200_000
DAYS = 30
SEED = 1
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = at_least(1_000_000 / 120)


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        demo_rate, rows = _demo(kind)
        with scratch_app(kind, search_index=False) as raw_app:
            setup = [f"PRAGMA cache_size = {SQLITE_CACHE_KIB}"] if kind == "sqlite" else []
            raw_rate = insert_rate(raw_app, kind, rows, CHUNK, setup)
        found.append(Measurement(kind, f"flask demo: generate + insert {EVENTS:,} events",
                                 demo_rate, "events/s", TARGET, raw_rate,
                                 "executemany of the same rows, no search index"))
    return found


def _demo(kind: str) -> tuple[float, list[dict[str, Any]]]:
    """The demo's rate, and the same events again as rows for the baseline (not timed)."""
    with scratch_app(kind) as app, app.app_context():
        result = load_demo(EVENTS, days=DAYS, until=UNTIL, seed=SEED)
        directory, _ = ensure_directory()
        plan = DemoPlan(EVENTS, DAYS, UNTIL, SEED, current_retention())
        rows = [{"event_uuid": uuid.uuid4(), **row} for row in generate(plan, directory)]
        db.session.rollback()
    return result.rate, rows


if __name__ == "__main__":
    print(table(run()))
