"""Free-text search at a million events, and what its index costs the writers.

- Search: the median time of the Logs query with a search (`search_condition()` under the
  keyset order, `LIMIT 51`, as the page runs it) for a rare, a middling and a very common
  word, on the shared million-event datasets (bench.datasets; SQLite, and PostgreSQL when it
  answers). Raw baseline: the database's own text search for the same words in plain SQL,
  the newest 51 matches by insertion order (FTS5 `ORDER BY rowid DESC`, or the GIN index).
- record(): events per second through record() + commit into a fresh SQLite file with the
  search index, against the same without it (the search DDL dropped), interleaved in rounds.
- flask demo: the demo loader's rate with the search triggers, against the same without.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, table
from bench.datasets import UNTIL, demo_app, quiet_event_log
from webapp import create_app
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.events import record
from webapp.events.search import (
    FTS_TABLE,
    PG_COLUMN,
    PG_INDEX,
    create_search_index,
    drop_search_index,
    parse_search,
    search_condition,
)
from webapp.models import Event

SEARCHES = 15
RECORD_ROUNDS, RECORD_BATCH = 6, 300
DEMO_EVENTS = 30_000
NEWEST_FIRST = (Event.created.desc(), Event.event_uuid.desc())
RECORDED_CONTEXT = {
    "auth_method": "password",
    "http_request": {"path": "/auth/login", "method": "POST", "args": {},
                     "request_id": "b62ac1fea5f09e6345ddb87da81aa40a",
                     "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
                                   "Firefox/125.0"},
    "geo": {"continent": "EU", "country": "CH", "lat": 47.3769, "long": 8.5417, "city": "Zürich"},
    "asn": {"asn": 3303, "as_org": "Swisscom (Schweiz) AG", "network": "178.192.0.0/11"},
}


def run() -> list[Measurement]:
    logging.disable(logging.INFO)  # record() logs every event; not what a bench shows
    try:
        with quiet_event_log():
            results = [_record_rate(), _demo_rate()]
            results += _searches("sqlite") + _searches("postgresql")
    finally:
        logging.disable(logging.NOTSET)
    return results


# --- search at a million events ----------------------------------------------------------------

def _searches(kind: str) -> list[Measurement]:
    app = demo_app(kind)
    if app is None:
        print(f"  {kind}: not measured (no server)", flush=True)
        return []
    found = []
    with app.app_context():
        _ensure_search_index()
        raw = _raw_search(kind)
        for label, text in _words().items():
            median, rows, matching = _median_page(text), _page(text), _count(text)
            baseline = raw(text)
            print(f"  {kind}: search {text!r} ({label}, {matching:,} matching events): "
                  f"median {median:.1f} ms (target 100), {len(rows)} rows; raw {baseline:.1f} ms",
                  flush=True)
            found.append(Measurement(f"{kind} search, {label} word, first page", median, "ms",
                                     baseline, "the same text search in raw SQL"))
        db.engine.dispose()
    return found


def _ensure_search_index() -> None:
    """A dataset built before the search module was loaded has no index; add it (slow, once)."""
    present = {"sqlite": FTS_TABLE, "postgresql": PG_INDEX}
    inspector = sa.inspect(db.engine)
    names = (set(inspector.get_table_names()) if db.engine.dialect.name == "sqlite"
             else {index["name"] for index in inspector.get_indexes("events")})
    if present[db.engine.dialect.name] not in names:
        print("  the dataset has no search index yet; building it ...", flush=True)
        with db.engine.begin() as connection:
            create_search_index(connection, fill=True)


def _words() -> dict[str, str]:
    """A rare, a middling and a very common word of the dataset (it is the demo's, seeded)."""
    invoice = db.session.scalar(sa.select(Event.context["invoice"].as_string())
                                .where(Event.action == "custom_invoice_paid").limit(1))
    return {"rare": invoice or "zzzz", "middling": "cairo", "common": "login"}


def _page(text: str) -> list[Event]:
    query = sa.select(Event).where(search_condition(text)).order_by(*NEWEST_FIRST).limit(51)
    rows = list(db.session.scalars(query))
    db.session.rollback()
    return rows


def _median_page(text: str) -> float:
    _page(text)  # warm the cache
    return _median(lambda: _page(text))


def _count(text: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(search_condition(text))) or 0


def _raw_search(kind: str) -> Callable[[str], float]:
    if kind == "sqlite":
        path = db.engine.url.database
        statement = (f"SELECT * FROM events WHERE rowid IN (SELECT rowid FROM {FTS_TABLE} "
                     f"WHERE {FTS_TABLE} MATCH ? ORDER BY rowid DESC LIMIT 51)")

        def sqlite_raw(text: str) -> float:
            connection = sqlite3.connect(path)
            match = parse_search(text).fts5()
            connection.execute(statement, (match,)).fetchall()
            median = _median(lambda: connection.execute(statement, (match,)).fetchall())
            connection.close()
            return median
        return sqlite_raw

    statement = sa.text(f"SELECT * FROM events WHERE {PG_COLUMN} @@ "
                        "to_tsquery('simple'::regconfig, :q) LIMIT 51")

    def postgresql_raw(text: str) -> float:
        with db.engine.connect() as connection:
            query = {"q": parse_search(text).tsquery()}
            connection.execute(statement, query).fetchall()
            return _median(lambda: connection.execute(statement, query).fetchall())
    return postgresql_raw


def _median(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(SEARCHES):
        started = perf_counter()
        work()
        timings.append((perf_counter() - started) * 1000)
    return statistics.median(timings)


# --- what the index costs writers --------------------------------------------------------------

def _record_rate() -> Measurement:
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        apps = {with_index: _fresh_app(Path(tmp) / f"record-{with_index}.sqlite3", with_index)
                for with_index in (True, False)}
        seconds = {True: 0.0, False: 0.0}
        for _ in range(RECORD_ROUNDS):
            for with_index, app in apps.items():
                with app.app_context():
                    started = perf_counter()
                    for number in range(RECORD_BATCH):
                        record("login", RECORDED_CONTEXT, app="webapp.views.auth",
                               user={"pk": number, "username": f"user{number}"},
                               client_ip="178.192.4.7")
                        db.session.commit()
                    seconds[with_index] += perf_counter() - started
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()
    events = RECORD_ROUNDS * RECORD_BATCH
    with_rate, without_rate = events / seconds[True], events / seconds[False]
    print(f"  record() + commit: {with_rate:,.0f}/s with the search index, {without_rate:,.0f}/s "
          f"without: {100 * (without_rate / with_rate - 1):.1f} % slower (limit 20 %)", flush=True)
    return Measurement("record() + commit with the search index", with_rate, "events/s",
                       without_rate, "the same without the search index")


def _demo_rate() -> Measurement:
    rates = {}
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        for with_index in (True, False):
            app = _fresh_app(Path(tmp) / f"demo-{with_index}.sqlite3", with_index)
            with app.app_context():
                rates[with_index] = load_demo(DEMO_EVENTS, days=30, until=UNTIL, seed=1).rate
                db.engine.dispose()
    print(f"  flask demo: {rates[True]:,.0f} events/s with the search triggers, "
          f"{rates[False]:,.0f}/s without; a million events in about "
          f"{1_000_000 / rates[True]:.0f} s instead of {1_000_000 / rates[False]:.0f} s",
          flush=True)
    return Measurement(f"flask demo, {DEMO_EVENTS:,} events with search triggers", rates[True],
                       "events/s", rates[False], "the same without the search index")


def _fresh_app(path: Path, with_index: bool) -> Flask:
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SCHEDULER": False})
    with app.app_context():
        db.create_all()
        if not with_index:
            with db.engine.begin() as connection:
                drop_search_index(connection)
    return app


if __name__ == "__main__":
    print(table(run()))
