"""REST API at 1,000,000 events: 1,000-event pages (first, middle, last) as the Elastic Agent
asks for them, and `bulk/` ingest, on every database of the run.

Pages go through the real endpoint (Flask test client, signed in) and are compared with the
same rows fetched through the driver (OFFSET, as a naive server would) and json.dumps'd. Bulk
ingest posts batches of 1,000 events to a fresh database; the baseline is the driver's
executemany of the very rows it stored (read back afterwards, untimed), one transaction per
batch, into an events table of the same columns and indexes without the search index.
Targets (issue #10): 300 ms a page, 5,000 events/s ingest.

Run alone: `.venv/bin/python -m bench.bench_api`.
"""

from __future__ import annotations

import json
import statistics
import uuid
from collections.abc import Callable
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import Measurement, at_least, at_most, raw, table
from bench.datasets import databases, demo_app, scratch_app, signed_in_client
from webapp.core.extensions import db
from webapp.directory.accounts import create_token, create_user
from webapp.models import Event

PAGE_TARGET, BULK_TARGET = at_most(300), at_least(5000)
RUNS = 5
PAGE_SIZE = 1000
BATCH, BATCHES = 1000, 10
BULK_APP = "idp.example"


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        found += _pages(kind, demo_app(kind))
        found.append(_bulk(kind))
    return found


def _pages(kind: str, app: Flask) -> list[Measurement]:
    client = signed_in_client(app)
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    last = -(-total // PAGE_SIZE)
    found = []
    cases = (("first", 1, False), ("middle, jumped to", last // 2, False),
             ("last, jumped to", last, False), ("deep, next in a walk", max(2, last - 100), True))
    # The naive baseline reads every row it skips: at 10M events page 10,001 takes it half a
    # minute, so beyond a million events it is timed once (after its warm-up) instead of RUNS.
    raw_runs = RUNS if total <= 1_000_000 else 1
    with raw.connection(app) as connection:
        for name, page, walking in cases:
            api_ms = _median(lambda page=page, walking=walking: _get_page(client, page, walking))
            raw_ms = _median(lambda page=page: _timed(_raw_page, connection, kind, page),
                             raw_runs)
            found.append(Measurement(kind, f"API page {page:,} of {last:,}, {PAGE_SIZE} events "
                                     f"({name})", api_ms, "ms", PAGE_TARGET, raw_ms,
                                     "driver OFFSET + json.dumps"))
    return found


def _get_page(client: FlaskClient, page: int, walking: bool) -> float:
    """Milliseconds for the page; when `walking`, right after the page before it (untimed),
    as the Elastic Agent asks for it."""
    if walking:
        _get(client, page - 1)
    return _timed(_get, client, page)


def _get(client: FlaskClient, page: int) -> None:
    response = client.get(f"/api/v3/events/events/?page={page}&page_size={PAGE_SIZE}")
    assert response.status_code == 200, response.text[:200]
    assert len(response.get_json()["results"]) > 0


def _timed(action: Callable[..., object], *args: Any) -> float:
    started = perf_counter()
    action(*args)
    return (perf_counter() - started) * 1000


def _raw_page(connection: Any, kind: str, page: int) -> None:
    cursor = connection.cursor()
    cursor.execute('SELECT event_uuid, "user", action, app, context, client_ip, created, '
                   "expires, brand FROM events ORDER BY created DESC, event_uuid DESC "
                   f"LIMIT {raw.marker(kind)} OFFSET {raw.marker(kind)}",
                   (PAGE_SIZE, (page - 1) * PAGE_SIZE))
    json.dumps([{"pk": str(uuid.UUID(str(row[0]))), "user": _json(row[1]), "action": row[2],
                 "app": row[3], "context": _json(row[4]), "client_ip": row[5],
                 "created": str(row[6]), "expires": str(row[7]), "brand": _json(row[8])}
                for row in cursor.fetchall()])
    cursor.close()
    connection.rollback()


def _json(value: Any) -> Any:
    """SQLite hands JSON over as text, psycopg as the parsed value."""
    return json.loads(value) if isinstance(value, str) else value


def _median(timed_action: Callable[[], float], runs: int = RUNS) -> float:
    timed_action()  # warm the page cache
    return statistics.median(timed_action() for _ in range(runs))


# --- bulk/ ingest ------------------------------------------------------------------------------

def _bulk(kind: str) -> Measurement:
    api_rate, rows = _api_ingest(kind)
    with scratch_app(kind, search_index=False) as raw_app:
        raw_rate = raw.insert_rate(raw_app, kind, rows, BATCH)
    return Measurement(kind, f"bulk/ ingest, {BATCHES} x {BATCH} events", api_rate,
                       "events/s", BULK_TARGET, raw_rate,
                       "executemany of the same rows, no search index")


def _api_ingest(kind: str) -> tuple[float, list[dict[str, Any]]]:
    """Events per second through `bulk/`, and the rows it stored."""
    with scratch_app(kind) as app:
        with app.app_context():
            _, key = create_token(create_user("bench", is_superuser=True))
            db.session.commit()
        client = app.test_client()
        batches = [_items(batch) for batch in range(BATCHES)]
        started = perf_counter()
        for items in batches:
            response = client.post("/api/v3/events/events/bulk/", json=items,
                                   headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 201, response.text[:300]
        seconds = perf_counter() - started
        with app.app_context():
            rows = [dict(row) for row in db.session.execute(
                sa.select(Event.__table__).where(Event.app == BULK_APP)).mappings()]
    return BATCH * BATCHES / seconds, rows


def _items(batch: int) -> list[dict]:
    return [{"action": "login", "app": BULK_APP, "client_ip": f"198.51.100.{i % 250}",
             "user": {"pk": i, "username": f"user{i}", "email": f"user{i}@example.com"},
             "created": f"2026-10-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
             "context": {"auth_method": "password", "batch": batch,
                         "http_request": {"path": "/login/", "method": "POST"}}}
            for i in range(BATCH)]


if __name__ == "__main__":
    print(table(run()))
