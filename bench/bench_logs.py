"""Events > Logs at 1,000,000 events: median server time of each page against its raw SQL.

Each case is a real request through the Flask test client, signed in as an administrator,
rendering the whole page. The baseline is the very SQL that request ran (captured from the
engine), replayed through the database driver's own cursor in the same run: the ratio is what
Herald's Python, ORM and templates add on top of the database's work. Targets (issue #6): 50 ms
a page, 100 ms with a search, 20 ms to expand a row; (issue #7) 150 ms for 30 days of the
volume chart. The count and the chart are requests of their own, made after the table
arrives, so they are measured on their own.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, table
from bench.datasets import UNTIL, demo_app, quiet_event_log, signed_in_client
from webapp.core.extensions import db
from webapp.models import Event

RUNS = 11


@dataclass(frozen=True)
class Case:
    name: str
    target_ms: float
    url: Callable[[dict[str, str]], str]


SINCE_7D = (UNTIL - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
CASES = (
    Case("first page", 50, lambda s: "/events/"),
    Case("action", 50, lambda s: "/events/?action=login_failed"),
    Case("username", 50, lambda s: f"/events/?username={s['username']}"),
    Case("client IP", 50, lambda s: f"/events/?client_ip={s['ip']}"),
    Case("app", 50, lambda s: "/events/?app=herald.audit"),
    Case("country", 50, lambda s: f"/events/?country={s['country']}"),
    Case("city", 50, lambda s: f"/events/?city={s['city']}"),
    Case("affected object", 50, lambda s: f"/events/?model_name={s['model_name']}"
                                          f"&model_pk={s['model_pk']}"),
    Case("CIDR /16", 50, lambda s: f"/events/?client_ip={s['network']}"),
    Case("7-day range", 50, lambda s: f"/events/?period=custom&since={SINCE_7D}"),
    Case("three filters", 50, lambda s: f"/events/?action=login&country={s['country']}"
                                        f"&period=custom&since={SINCE_7D}"),
    Case("search, common word", 100, lambda s: "/events/?q=login"),
    Case("search, rare name", 100, lambda s: f"/events/?q={s['city']}"),
    Case("expand a row", 20, lambda s: f"/events/{s['event']}/details"),
    Case("count, three filters", 50, lambda s: f"/events/count?action=login&country="
                                               f"{s['country']}&period=custom&since={SINCE_7D}"),
    Case("count, search", 100, lambda s: "/events/count?q=login"),
    Case("volume chart, 30 days", 150, lambda s: "/events/chart?period=30d"),
    Case("Overview sign-ins chart, 7 days", 50, lambda s: "/overview/charts/sign-ins"),
    Case("event page", 50, lambda s: f"/events/{s['event']}"),
)


def run() -> list[Measurement]:
    measurements: list[Measurement] = []
    for kind in ("sqlite", "postgresql"):
        app = demo_app(kind)
        if app is not None:
            with quiet_event_log():
                measurements += _measure(kind, app)
    return measurements


def _measure(kind: str, app: Flask) -> list[Measurement]:
    client = signed_in_client(app)
    with app.app_context():
        samples = _samples()
    found = []
    for case in CASES:
        url = case.url(samples)
        page_ms, statements = _page(app, client, url)
        raw_ms = _raw(app, statements)
        name = f"{kind}: {case.name} (target {case.target_ms:.0f} ms)"
        found.append(Measurement(name, page_ms, "ms", raw_ms, "its SQL, raw driver"))
    return found


def _samples() -> dict[str, str]:
    """Real values from the dataset, so every filter selects something."""
    def first(query: sa.Select) -> Any:
        return db.session.execute(query.limit(1)).one()

    username, ip = first(sa.select(Event.username, Event.client_ip)
                         .where(Event.action == "login", Event.client_ip.like("%.%"),
                                Event.user_pk.is_not(None)))
    country, city = first(sa.select(Event.country, Event.city).where(Event.city.is_not(None))
                          .order_by(Event.created.desc()))
    model_name, model_pk = first(sa.select(Event.model_name, Event.model_pk)
                                 .where(Event.model_pk.is_not(None)))
    event = first(sa.select(Event.event_uuid).where(Event.action == "model_updated")
                  .order_by(Event.created.desc()))[0]
    network = ".".join(ip.split(".")[:2]) + ".0.0/16"
    return {"username": username, "ip": ip, "country": country, "city": city,
            "model_name": model_name, "model_pk": model_pk, "event": str(event),
            "network": network}


def _page(app: Flask, client, url: str) -> tuple[float, list[tuple[str, Any]]]:
    """Median milliseconds of the request, and the SQL it ran (captured on the last run)."""
    times = []
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        engine = db.engine

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    for attempt in range(RUNS + 1):
        last = attempt == RUNS
        if last:
            sa.event.listen(engine, "before_cursor_execute", capture)
        started = perf_counter()
        response = client.get(url)
        elapsed = perf_counter() - started
        if last:
            sa.event.remove(engine, "before_cursor_execute", capture)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if attempt:  # the first request warms caches
            times.append(elapsed * 1000)
    return statistics.median(times), [s for s in statements if s[0].lstrip().upper()
                                      .startswith(("SELECT", "WITH"))]


def _raw(app: Flask, statements: list[tuple[str, Any]]) -> float:
    with app.app_context():
        connection = db.engine.raw_connection()
    try:
        times = []
        for _ in range(RUNS):
            started = perf_counter()
            cursor = connection.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
            times.append((perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        connection.close()


if __name__ == "__main__":
    print(table(run()))
