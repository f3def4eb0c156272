"""Events > Logs at 1,000,000 events: median server time of each page against its raw SQL.

Each case is a real request through the Flask test client, signed in as an administrator,
rendering the whole page, on every database of the run (bench.datasets). The baseline is the
very SQL that request ran (captured from the engine), replayed through the database driver's
own cursor in the same run (bench.pages): the ratio is what Herald's Python, ORM and templates
add on top of the database's work. Targets: issue #6 (50 ms a page, 100 ms with a search,
20 ms to expand a row; the deferred count and the event page are held to their page's
target), issue #7 (150 ms for 30 days of the volume chart, 50 ms for the Overview and its
charts). The count and the chart are requests of their own, made after the table arrives,
so they are measured on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, Target, at_most, table
from bench.datasets import UNTIL, databases, demo_app, signed_in_client
from bench.pages import replay, timed_request
from webapp.core.extensions import db
from webapp.models import Event


@dataclass(frozen=True)
class Case:
    name: str
    target: Target
    url: Callable[[dict[str, str]], str]


#: The targets, in ms: a page, a search, expanding a row, the volume chart.
PAGE, SEARCH, EXPAND, CHART = at_most(50), at_most(100), at_most(20), at_most(150)
SINCE_7D = (UNTIL - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
CASES = (
    Case("first page", PAGE, lambda s: "/events/"),
    Case("action", PAGE, lambda s: "/events/?action=login_failed"),
    Case("username", PAGE, lambda s: f"/events/?username={s['username']}"),
    Case("client IP", PAGE, lambda s: f"/events/?client_ip={s['ip']}"),
    Case("app", PAGE, lambda s: "/events/?app=herald.audit"),
    Case("country", PAGE, lambda s: f"/events/?country={s['country']}"),
    Case("city", PAGE, lambda s: f"/events/?city={s['city']}"),
    Case("affected object", PAGE, lambda s: f"/events/?model_name={s['model_name']}"
                                            f"&model_pk={s['model_pk']}"),
    Case("CIDR /16", PAGE, lambda s: f"/events/?client_ip={s['network']}"),
    Case("7-day range", PAGE, lambda s: f"/events/?period=custom&since={SINCE_7D}"),
    Case("three filters", PAGE, lambda s: f"/events/?action=login&country={s['country']}"
                                          f"&period=custom&since={SINCE_7D}"),
    Case("search, common word", SEARCH, lambda s: "/events/?q=login"),
    Case("search, rare name", SEARCH, lambda s: f"/events/?q={s['city']}"),
    Case("expand a row", EXPAND, lambda s: f"/events/{s['event']}/details"),
    Case("count, three filters", PAGE, lambda s: f"/events/count?action=login&country="
                                                 f"{s['country']}&period=custom&since={SINCE_7D}"),
    Case("count, search", SEARCH, lambda s: "/events/count?q=login"),
    Case("volume chart, 30 days", CHART, lambda s: "/events/chart?period=30d"),
    Case("Overview sign-ins chart, 7 days", PAGE, lambda s: "/overview/charts/sign-ins"),
    Case("event page", PAGE, lambda s: f"/events/{s['event']}"),
)


def run() -> list[Measurement]:
    measurements: list[Measurement] = []
    for kind in databases():
        measurements += _measure(kind, demo_app(kind))
    return measurements


def _measure(kind: str, app: Flask) -> list[Measurement]:
    client = signed_in_client(app)
    with app.app_context():
        samples = _samples()
    found = []
    for case in CASES:
        page_ms, statements = timed_request(app, client, case.url(samples))
        found.append(Measurement(kind, f"Logs: {case.name}", page_ms, "ms", case.target,
                                 replay(app, statements), "its SQL, raw driver"))
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


if __name__ == "__main__":
    print(table(run()))
