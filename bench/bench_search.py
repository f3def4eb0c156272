"""Free-text search at a million events, and what its index costs the writers, on every
database of the run (bench.datasets).

- Search: the median time of the Logs query with a search (`search_condition()` under the
  keyset order, `LIMIT 51`, as the page runs it) for a rare, a middling and a very common
  word, on the shared demo datasets. Target (issue #6): 100 ms. Raw baseline: the database's
  own text search for the same words in plain SQL through the driver, the newest 51 matches
  by insertion order (FTS5 `ORDER BY rowid DESC`, or the GIN index).
- record(): events per second through record() + commit into a fresh database with the
  search index, against the same without it (the search DDL dropped), interleaved in rounds.
  Target (issue #6): at most 20 % slower, i.e. at least the rate without the index / 1.2.
- flask demo: the demo loader's rate with the search index, against the same without (no
  target; shown because building benchmark datasets depends on it).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from contextlib import ExitStack
from time import perf_counter

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, at_least, at_most, raw, table
from bench.datasets import UNTIL, databases, demo_app, scratch_app
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.events import record
from webapp.events.search import (
    FTS_TABLE,
    PG_COLUMN,
    parse_search,
    search_condition,
)
from webapp.models import Event

SEARCH_TARGET = at_most(100)
#: record() with the index may be at most this much slower than without.
RECORD_SLOWDOWN = 1.20
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
    results = []
    for kind in databases():
        results += [_record_rate(kind), _demo_rate(kind), *_searches(kind)]
    return results


# --- search at a million events ----------------------------------------------------------------

def _searches(kind: str) -> list[Measurement]:
    app = demo_app(kind)
    found = []
    with app.app_context():
        words = _words()
    for label, text in words.items():
        with app.app_context():
            median, rows, matching = _median_page(text), _page(text), _count(text)
        baseline = _raw_search(app, kind, text)
        print(f"  {kind}: search {text!r} ({label}, {matching:,} matching events): "
              f"median {median:.1f} ms, {len(rows)} rows; raw {baseline:.1f} ms", flush=True)
        found.append(Measurement(kind, f"search query, {label} word, first page", median, "ms",
                                 SEARCH_TARGET, baseline, "the same text search, raw driver"))
    return found


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


def _raw_search(app: Flask, kind: str, text: str) -> float:
    """Median milliseconds of the database's own text search for `text`, the newest 51
    matches, through the driver."""
    terms = parse_search(text)
    if kind == "sqlite":
        statement = (f"SELECT * FROM events WHERE rowid IN (SELECT rowid FROM {FTS_TABLE} "
                     f"WHERE {FTS_TABLE} MATCH ? ORDER BY rowid DESC LIMIT 51)")
        query = terms.fts5()
    else:
        statement = (f"SELECT * FROM events WHERE {PG_COLUMN} @@ "
                     "to_tsquery('simple'::regconfig, %s) LIMIT 51")
        query = terms.tsquery()
    with raw.connection(app) as connection:
        cursor = connection.cursor()

        def search() -> None:
            cursor.execute(statement, (query,))
            cursor.fetchall()

        search()  # warm the cache
        median = _median(search)
        cursor.close()
    return median


def _median(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(SEARCHES):
        started = perf_counter()
        work()
        timings.append((perf_counter() - started) * 1000)
    return statistics.median(timings)


# --- what the index costs writers --------------------------------------------------------------

def _record_rate(kind: str) -> Measurement:
    seconds = {True: 0.0, False: 0.0}
    with ExitStack() as stack:
        apps = {with_index: stack.enter_context(scratch_app(kind, search_index=with_index))
                for with_index in (True, False)}
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
    events = RECORD_ROUNDS * RECORD_BATCH
    with_rate, without_rate = events / seconds[True], events / seconds[False]
    print(f"  {kind}: record() + commit: {with_rate:,.0f}/s with the search index, "
          f"{without_rate:,.0f}/s without: {100 * (without_rate / with_rate - 1):.1f} % slower "
          f"(limit {100 * (RECORD_SLOWDOWN - 1):.0f} %)", flush=True)
    return Measurement(kind, "record() + commit with the search index", with_rate, "events/s",
                       at_least(without_rate / RECORD_SLOWDOWN), without_rate,
                       "the same without the search index")


def _demo_rate(kind: str) -> Measurement:
    rates = {}
    for with_index in (True, False):
        with scratch_app(kind, search_index=with_index) as app, app.app_context():
            rates[with_index] = load_demo(DEMO_EVENTS, days=30, until=UNTIL, seed=1).rate
    print(f"  {kind}: flask demo: {rates[True]:,.0f} events/s with the search index, "
          f"{rates[False]:,.0f}/s without; a million events in about "
          f"{1_000_000 / rates[True]:.0f} s instead of {1_000_000 / rates[False]:.0f} s",
          flush=True)
    return Measurement(kind, f"flask demo, {DEMO_EVENTS:,} events with the search index",
                       rates[True], "events/s", None, rates[False],
                       "the same without the search index")


if __name__ == "__main__":
    print(table(run()))
