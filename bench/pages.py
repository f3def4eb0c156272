"""A page's server time through the Flask test client, and the same page's SQL replayed through
the driver: the pair behind every "its SQL, raw driver" baseline.

The SQL is captured from the engine while the request runs, so the baseline is exactly the
queries Herald sent (with their parameters), and the ratio is what Herald's Python, ORM and
templates add on top of the database's own work.
"""

from __future__ import annotations

import statistics
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import raw
from webapp.core.extensions import db

RUNS = 11
Statements = list[tuple[str, Any]]


def timed_request(app: Flask, client: FlaskClient, url: str,
                  runs: int = RUNS) -> tuple[float, Statements]:
    """Median milliseconds of `GET url` over `runs` requests after a warming one, and the
    reading SQL it ran (captured on one more request, untimed)."""
    times = []
    for attempt in range(runs + 1):
        started = perf_counter()
        response = client.get(url)
        elapsed = perf_counter() - started
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if attempt:  # the first request warms caches
            times.append(elapsed * 1000)
    return statistics.median(times), _captured(app, client, url)


def replay(app: Flask, statements: Statements, runs: int = RUNS) -> float:
    """Median milliseconds of running `statements` through the driver's own cursor and
    fetching every row."""
    with raw.connection(app) as connection:
        times = []
        for _ in range(runs):
            started = perf_counter()
            cursor = connection.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
            times.append((perf_counter() - started) * 1000)
            connection.rollback()  # no snapshot held between runs, as between requests
    return statistics.median(times)


def _captured(app: Flask, client: FlaskClient, url: str) -> Statements:
    statements: Statements = []
    with app.app_context():
        engine = db.engine

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return [s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
