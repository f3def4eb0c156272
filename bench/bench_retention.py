"""Retention cleanup at scale: `delete_expired` removing the oldest day of the demo dataset
while a reader keeps loading the Logs page, on every database of the run.

Issue #11 asks that retention cleanup "deletes in batches without blocking readers". It runs
on a copy of the cached dataset (bench.datasets.copy_app), since it deletes. The clock the
cleanup reads is set one day past the oldest event's expiry, so it finds one day of events
expired (a thirtieth of the dataset), as the daily job does at a site that keeps 30 days.

Figures: the cleanup's rate, run alone (rows/s; target: at least the ingest target of issue
#10, 5,000 events/s, so cleanup keeps pace with what `bulk/` may write), and the Logs page's
median and worst server time while the cleanup of the next day runs (target: the page target
of issue #6, 50 ms). The raw baselines: one `DELETE ... WHERE expires <= ?` of the third day
through the driver (one statement, one transaction, the plainest way), and the same page's
median before the cleanup.

Run alone: `.venv/bin/python -m bench.bench_retention`.
"""

from __future__ import annotations

import statistics
import threading
from datetime import datetime, timedelta
from time import perf_counter
from unittest import mock

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import Measurement, at_least, at_most, raw, table
from bench.datasets import copy_app, databases, demo_app, signed_in_client
from webapp.core.extensions import db
from webapp.events import maintenance
from webapp.models import Event

RATE_TARGET, PAGE_TARGET = at_least(5000), at_most(50)
DAY = timedelta(days=1)
LOGS = "/events/"
QUIET_REQUESTS = 20
ONE_DELETE = "one DELETE of a day's rows, raw driver"
QUIET_PAGE = "the same page before the cleanup"


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        with copy_app(kind, demo_app(kind)) as app:
            found += _measure(kind, app)
    return found


def _measure(kind: str, app: Flask) -> list[Measurement]:
    """Day 1 cleaned alone (the rate), day 2 cleaned under the reader (its page times),
    day 3 by one driver DELETE (the rate's baseline)."""
    day_ends = _oldest_expiry(app) + DAY
    client = signed_in_client(app)
    quiet = statistics.median(_page_time(client) for _ in range(QUIET_REQUESTS))
    deleted, seconds = _cleanup(app, day_ends)
    _, _, during = _cleanup_with_reader(app, client, day_ends + DAY)
    raw_deleted, raw_seconds = _one_delete(app, kind, day_ends + 2 * DAY)
    rate, raw_rate = deleted / seconds, raw_deleted / raw_seconds
    print(f"  {kind}: cleanup deleted {deleted:,} events in {seconds:.1f} s ({rate:,.0f}/s); "
          f"one DELETE {raw_deleted:,} in {raw_seconds:.1f} s ({raw_rate:,.0f}/s); Logs page "
          f"during the next day's cleanup: {len(during)} loads, median "
          f"{statistics.median(during):.1f} ms, worst {max(during):.0f} ms (quiet "
          f"{quiet:.1f} ms)", flush=True)
    return [
        Measurement(kind, "retention cleanup of a day, rows/s", rate, "rows/s", RATE_TARGET,
                    raw_rate, ONE_DELETE),
        Measurement(kind, "Logs page during the cleanup, median", statistics.median(during),
                    "ms", PAGE_TARGET, quiet, QUIET_PAGE),
        Measurement(kind, "Logs page during the cleanup, worst", max(during), "ms", None,
                    quiet, QUIET_PAGE),
    ]


def _oldest_expiry(app: Flask) -> datetime:
    with app.app_context():
        oldest = db.session.scalar(sa.select(sa.func.min(Event.expires)))
        db.session.rollback()
        return oldest


def _cleanup(app: Flask, clock: datetime) -> tuple[int, float]:
    """Rows deleted and seconds taken by `delete_expired` with the clock at `clock`."""
    with app.app_context(), mock.patch.object(maintenance, "utcnow", return_value=clock):
        started = perf_counter()
        deleted = maintenance.delete_expired()
        return deleted, perf_counter() - started


def _cleanup_with_reader(app: Flask, client: FlaskClient, clock: datetime
                         ) -> tuple[int, float, list[float]]:
    """The cleanup in a thread, and the Logs page's times (ms), loaded one after another
    until it finished."""
    outcome: list[tuple[int, float]] = []
    cleaner = threading.Thread(target=lambda: outcome.append(_cleanup(app, clock)),
                               name="bench-retention")
    cleaner.start()
    during = [_page_time(client)]
    while cleaner.is_alive():
        during.append(_page_time(client))
    cleaner.join()
    return *outcome[0], during


def _one_delete(app: Flask, kind: str, clock: datetime) -> tuple[int, float]:
    with raw.connection(app) as connection:
        cursor = connection.cursor()
        started = perf_counter()
        cursor.execute(f"DELETE FROM events WHERE expires <= {raw.marker(kind)}",
                       (raw.driver_value(kind, clock),))
        deleted = cursor.rowcount
        connection.commit()
        return deleted, perf_counter() - started


def _page_time(client: FlaskClient) -> float:
    started = perf_counter()
    response = client.get(LOGS)
    elapsed = (perf_counter() - started) * 1000
    assert response.status_code == 200, f"{LOGS}: {response.status_code}"
    return elapsed


if __name__ == "__main__":
    print(table(run()))
