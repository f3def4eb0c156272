"""Events > Map at 1,000,000 events: median server time of the map frame with ~100,000
geo-located events in range, against its SQL through the raw driver.

The range is a custom since/until ending at the dataset's end, chosen so that it holds about
100,000 events with a place. The frame is the expensive half of the Map page (the page itself
only asks whether anything in range has a place): one grouped query over the range, one small
query for each place's latest event, a popup per place and folium's document. The baseline is
the very SQL that request ran, captured from the engine and replayed through the database
driver's own cursor in the same run (bench.pages), so the ratio is what Herald's Python, ORM,
templates and folium add. Target (issue #7): 500 ms for the frame; the page around it is
shown for context.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, at_most, table
from bench.datasets import UNTIL, databases, demo_app, signed_in_client
from bench.pages import replay, timed_request
from webapp.core.extensions import db
from webapp.models import Event

LOCATED_EVENTS = 100_000
TARGET = at_most(500)


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        found += _measure(kind, demo_app(kind))
    return found


def _measure(kind: str, app: Flask) -> list[Measurement]:
    client = signed_in_client(app)
    with app.app_context():
        since = _since_for(LOCATED_EVENTS)
        located = db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.country.is_not(None), Event.created >= since, Event.created < UNTIL))
    query = f"period=custom&since={since:%Y-%m-%dT%H:%M}&until={UNTIL:%Y-%m-%dT%H:%M}"
    found = []
    for name, url, target in (
            (f"Map frame, ~{LOCATED_EVENTS:,} located events", f"/events/map/frame?{query}",
             TARGET),
            ("Map page around it (form, legend)", f"/events/map?{query}", None)):
        server_ms, statements = timed_request(app, client, url)
        raw_ms = replay(app, statements)
        print(f"  {kind} {url}: {located:,} geo-located events in range, {len(statements)} "
              f"statements, {server_ms:.0f} ms (raw SQL {raw_ms:.0f} ms)", flush=True)
        found.append(Measurement(kind, name, server_ms, "ms", target, raw_ms,
                                 "its SQL, raw driver"))
    return found


def _since_for(events: int) -> datetime:
    """The start of the range that ends at UNTIL and holds about `events` located events
    (rounded down to the minute, as someone would type it)."""
    moment = db.session.scalar(
        sa.select(Event.created).where(Event.country.is_not(None), Event.created < UNTIL)
        .order_by(Event.created.desc()).offset(events - 1).limit(1))
    if moment is None:
        return UNTIL - timedelta(days=30)
    return moment.replace(second=0, microsecond=0)


if __name__ == "__main__":
    print(table(run()))
