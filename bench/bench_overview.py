"""The Overview at 1,000,000 events a day: median server time of `GET /overview`.

The database is a SQLite file with a million demo events spread over the 24 hours before it
was built (`load_demo(days=1)`, about a minute), cached under `bench/.cache/` and rebuilt once
it is more than a few hours old, because the Overview's window follows the clock.

Measured through the Flask test client, signed in as an administrator, in the same run: the
first request after the hourly roll-ups were emptied (the lazy fill of 23 closed hours), the
median with the Overview's 30-second cache emptied before each request (roll-ups plus the live
hour at the edges), and the median of ordinary requests. The raw baseline is what the Overview
would cost without roll-ups: the naive COUNT queries over the last 24 hours of raw events in
plain sqlite3.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from datetime import timedelta
from pathlib import Path
from time import perf_counter, time

import sqlalchemy as sa

from bench import Measurement, table
from bench.datasets import quiet_event_log
from webapp import create_app
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.directory.accounts import create_user
from webapp.events.overview_stats import _CACHE_KEY, CACHE_SECONDS, overview_stats
from webapp.models import EventRollup, EventRollupHour, User

EVENTS = 1_000_000
CACHE = Path(__file__).parent / ".cache" / "overview-1m.sqlite3"
MAX_AGE = timedelta(hours=3)  # older, and too much of the day has slid out of the window
REQUESTS = 30
SEED = 1
ADMIN, PASSWORD = "bench-admin", "bench-admin-password"  # noqa: S105 (a throwaway database)


def run() -> list[Measurement]:
    with quiet_event_log():
        path = cached_database()
        app = _app(path)
        times, in_window = _overview_times(app)
        raw = _raw_counts(path)
    print(f"  {in_window:,} events in the Overview's 24 h window; first load filling the "
          f"roll-ups {times['cold']:.0f} ms; without the {CACHE_SECONDS:.0f} s cache "
          f"{times['uncached']:.0f} ms; median {times['cached']:.1f} ms (target 50 ms); "
          f"naive COUNT queries {raw:.0f} ms")
    baseline = "naive COUNT queries over 24 h of raw events"
    return [
        Measurement(f"Overview, median of {REQUESTS} requests", times["cached"], "ms", raw,
                    baseline),
        Measurement("Overview, median with its short cache emptied each time",
                    times["uncached"], "ms", raw, baseline),
        Measurement("Overview, first load filling 24 h of roll-ups", times["cold"], "ms", raw,
                    baseline),
    ]


def cached_database() -> Path:
    """The million-event file, built again when missing or when its day has mostly passed."""
    if CACHE.exists() and time() - CACHE.stat().st_mtime < MAX_AGE.total_seconds():
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    building = CACHE.with_suffix(".building")
    building.unlink(missing_ok=True)
    app = _app(building)
    with app.app_context():
        load_demo(EVENTS, days=1, until=utcnow(), seed=SEED)
        db.engine.dispose()
    building.replace(CACHE)
    return CACHE


def _app(path: Path):
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SCHEDULER": False})
    with app.app_context():
        db.create_all()
    return app


def _overview_times(app) -> tuple[dict[str, float], int]:
    """Milliseconds of `GET /overview`: the first load with no roll-ups, the median without
    and with the short cache; and the events in the window."""
    with app.app_context():
        if db.session.scalar(sa.select(User.id).where(User.username == ADMIN)) is None:
            create_user(ADMIN, email="", password=PASSWORD, is_superuser=True)
        db.session.execute(sa.delete(EventRollup))
        db.session.execute(sa.delete(EventRollupHour))
        db.session.commit()
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/auth/login").text)
    signed_in = client.post("/auth/login", data={"username": ADMIN, "password": PASSWORD,
                                                 "csrf_token": token.group(1)})
    assert signed_in.status_code == 302, signed_in.text
    times = {"cold": _timed(client)}
    uncached = []
    for _ in range(REQUESTS // 3):
        app.extensions.pop(_CACHE_KEY, None)
        uncached.append(_timed(client))
    times["uncached"] = statistics.median(uncached)
    times["cached"] = statistics.median(_timed(client) for _ in range(REQUESTS))
    with app.app_context():
        in_window = overview_stats().events
        db.engine.dispose()
    return times, in_window


def _timed(client) -> float:
    started = perf_counter()
    response = client.get("/overview")
    elapsed = (perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def _raw_counts(path: Path) -> float:
    """The naive Overview in plain sqlite3: every figure counted over 24 h of raw events."""
    connection = sqlite3.connect(path)
    since = (utcnow() - timedelta(hours=24)).replace(tzinfo=None).isoformat(" ")
    window = "FROM events WHERE created >= ?"
    statements = [
        f"SELECT count(*) {window}",
        *(f"SELECT count(*) {window} AND action = '{action}'"
          for action in ("login", "login_failed", "suspicious_request")),
        f"SELECT count(DISTINCT username) {window}",
        f"SELECT username, count(*) AS n {window} AND username IS NOT NULL "
        "GROUP BY username ORDER BY n DESC LIMIT 5",
        f"SELECT username, count(*) AS n {window} AND action = 'login_failed' "
        "AND username IS NOT NULL GROUP BY username ORDER BY n DESC LIMIT 5",
        f"SELECT client_ip, count(*) AS n {window} AND action = 'login_failed' "
        "AND client_ip IS NOT NULL GROUP BY client_ip ORDER BY n DESC LIMIT 5",
    ]
    timings = []
    for _ in range(3):
        started = perf_counter()
        for statement in statements:
            connection.execute(statement, (since,)).fetchall()
        timings.append((perf_counter() - started) * 1000)
    connection.close()
    return statistics.median(timings)


if __name__ == "__main__":
    print(table(run()))
