"""REST API at 1,000,000 events: 1,000-event pages (first, middle, last) as the Elastic Agent
asks for them, and `bulk/` ingest.

Pages go through the real endpoint (Flask test client, signed in) and are compared with the
same rows fetched by plain sqlite3 (OFFSET, as a naive server would) and json.dumps'd. Bulk
ingest posts batches of 1,000 events to a fresh SQLite file, against sqlite3's executemany of
the same rows into a table of the same shape. Targets (issue #10): 300 ms a page, 5,000
events/s ingest.

Run alone: `.venv/bin/python -m bench.bench_api`.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import uuid
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, table
from bench.datasets import demo_app, quiet_event_log, signed_in_client
from webapp import create_app
from webapp.core.extensions import db
from webapp.directory.accounts import create_token, create_user
from webapp.models import Event

RUNS = 5
PAGE_SIZE = 1000
BATCH, BATCHES = 1000, 10
RAW_PAGE = ("SELECT event_uuid, user, action, app, context, client_ip, created, expires, brand "
            "FROM events ORDER BY created DESC, event_uuid DESC LIMIT ? OFFSET ?")
COLUMNS = ("event_uuid", "user", "action", "app", "context", "client_ip", "created", "expires",
           "brand", "username")


def run() -> list[Measurement]:
    measurements = []
    app = demo_app("sqlite")
    with quiet_event_log():
        if app is not None:
            measurements += _pages(app)
        measurements.append(_bulk())
    return measurements


def _pages(app: Flask) -> list[Measurement]:
    client = signed_in_client(app)
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
        path = db.engine.url.database
    last = -(-total // PAGE_SIZE)
    found = []
    cases = (("first", 1, False), ("middle, jumped to", last // 2, False),
             ("last, jumped to", last, False), ("deep, next in a walk", last - 100, True))
    for name, page, walking in cases:
        api_ms = _median(lambda page=page, walking=walking: _get_page(client, page, walking))
        raw_ms = _median(lambda page=page: _timed(_raw_page, path, page))
        found.append(Measurement(f"sqlite: API page {page:,} of {last:,}, {PAGE_SIZE} events "
                                 f"({name}; target 300 ms)", api_ms, "ms", raw_ms,
                                 "sqlite3 OFFSET + json.dumps"))
    return found


def _get_page(client, page: int, walking: bool) -> float:
    """Milliseconds for the page; when `walking`, right after the page before it (untimed),
    as the Elastic Agent asks for it."""
    if walking:
        _get(client, page - 1)
    return _timed(_get, client, page)


def _get(client, page: int) -> None:
    response = client.get(f"/api/v3/events/events/?page={page}&page_size={PAGE_SIZE}")
    assert response.status_code == 200, response.text[:200]
    assert len(response.get_json()["results"]) > 0


def _timed(action, *args) -> float:
    started = perf_counter()
    action(*args)
    return (perf_counter() - started) * 1000


def _raw_page(path: str, page: int) -> None:
    connection = sqlite3.connect(path)
    rows = connection.execute(RAW_PAGE, (PAGE_SIZE, (page - 1) * PAGE_SIZE)).fetchall()
    json.dumps([{"pk": str(uuid.UUID(row[0])), "user": json.loads(row[1]), "action": row[2],
                 "app": row[3], "context": json.loads(row[4]), "client_ip": row[5],
                 "created": row[6], "expires": row[7], "brand": json.loads(row[8])}
                for row in rows])
    connection.close()


def _median(timed_action) -> float:
    timed_action()  # warm the page cache
    return statistics.median(timed_action() for _ in range(RUNS))


def _items(batch: int) -> list[dict]:
    return [{"action": "login", "app": "idp.example", "client_ip": f"198.51.100.{i % 250}",
             "user": {"pk": i, "username": f"user{i}", "email": f"user{i}@example.com"},
             "created": f"2026-10-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
             "context": {"auth_method": "password", "batch": batch,
                         "http_request": {"path": "/login/", "method": "POST"}}}
            for i in range(BATCH)]


def _bulk() -> Measurement:
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as tmp:
        api_rate = _api_ingest(Path(tmp) / "api.sqlite3")
        raw_rate = _raw_ingest(Path(tmp) / "raw.sqlite3")
    return Measurement(f"bulk/ ingest, {BATCHES} x {BATCH} events (target 5,000/s)", api_rate,
                       "events/s", raw_rate, "sqlite3 executemany")


def _api_ingest(path: Path) -> float:
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SCHEDULER": False})
    with app.app_context():
        db.create_all()
        _, key = create_token(create_user("bench", is_superuser=True))
        db.session.commit()
    client = app.test_client()
    batches = [_items(batch) for batch in range(BATCHES)]
    with quiet_event_log():  # again: the app factory has just set the event log to INFO
        started = perf_counter()
        for items in batches:
            response = client.post("/api/v3/events/events/bulk/", json=items,
                                   headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 201, response.text[:300]
        seconds = perf_counter() - started
    with app.app_context():
        db.engine.dispose()
    return BATCH * BATCHES / seconds


def _raw_ingest(path: Path) -> float:
    engine = sa.create_engine(f"sqlite:///{path}")
    Event.__table__.create(engine)  # the same columns and indexes
    engine.dispose()
    rows = [(uuid.uuid4().hex, json.dumps(item["user"]), item["action"], item["app"],
             json.dumps(item["context"]), item["client_ip"], item["created"][:-1],
             item["created"][:-1], "{}", item["user"]["username"])
            for batch in range(BATCHES) for item in _items(batch)]
    statement = (f"INSERT INTO events ({', '.join(COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in COLUMNS)})")
    connection = sqlite3.connect(path)
    started = perf_counter()
    for start in range(0, len(rows), BATCH):
        connection.executemany(statement, rows[start:start + BATCH])
        connection.commit()
    seconds = perf_counter() - started
    connection.close()
    return len(rows) / seconds


if __name__ == "__main__":
    print(table(run()))
