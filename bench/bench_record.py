"""record(): events recorded one at a time, each committed, as a sign-in records its event,
on a fresh database of every database of the run (bench.datasets).

The raw baseline is the issue's own example (#11): the driver's INSERT of the very rows
record() stored (read back afterwards, untimed) with a COMMIT after each, so the same
durability, into an events table with the same columns and indexes but without the search
index. The ratio is everything Herald adds to storing a row: the enrichment, sanitizing, the
ORM, the outbox row and the search index. The issues set no target for record() alone
(bench_search and bench_notifications hold it to the search index's and the rules' limits).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import sqlalchemy as sa

from bench import Measurement, raw, table
from bench.bench_search import RECORDED_CONTEXT
from bench.datasets import databases, scratch_app
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Event

EVENTS = 300


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        rate, rows = _record(kind)
        with scratch_app(kind, search_index=False) as raw_app:
            raw_rate = raw.insert_rate(raw_app, kind, rows, chunk=1)
        found.append(Measurement(kind, "record() + commit, one event at a time", rate,
                                 "events/s", None, raw_rate,
                                 "INSERT + COMMIT of the same rows, no search index"))
    return found


def _record(kind: str) -> tuple[float, list[dict[str, Any]]]:
    """Events per second through record() + commit, and the rows it stored."""
    with scratch_app(kind) as app, app.app_context():
        started = perf_counter()
        for number in range(EVENTS):
            record("login", RECORDED_CONTEXT, app="webapp.views.auth",
                   user={"pk": number, "username": f"user{number}"}, client_ip="178.192.4.7")
            db.session.commit()
        seconds = perf_counter() - started
        rows = [dict(row) for row in db.session.execute(sa.select(Event.__table__)).mappings()]
    return EVENTS / seconds, rows


if __name__ == "__main__":
    print(table(run()))
