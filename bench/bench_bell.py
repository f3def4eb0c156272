"""The bell's poll: what one open tab costs the server every few seconds.

A fresh database (every database of the run) with 50,000 notifications for 500 users (half
of them unread); one user, signed in through the Flask test client, polls
`GET /notifications/badge` as the header's count does: microseconds per request when the count
changed (the fragment is rendered) and when it did not (204, the usual answer), each the best
of three rounds. From each figure, the share of one CPU core that 500 tabs polling at the
production interval (read from the template) would take. The raw baseline is the same COUNT
through the database driver directly, the floor under any web framework; the health check's
time is printed too, the floor under any Flask request. Issue #9 asks for "cheap enough that
500 open tabs cost the server little" and sets no number, so these figures have no target.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench import Measurement, raw, table
from bench.datasets import databases, scratch_app, signed_in_client
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.accounts import create_user
from webapp.models import Notification, User

USERS = 500
PER_USER = 100
TABS = 500
REQUESTS = 500
ROUNDS = 3
COUNT_TEMPLATE = Path(__file__).parents[1] / "templates" / "notifications" / "_count.html"
POLLER, PASSWORD = "bench-poller", "bench-poller-password"  # noqa: S105 (a throwaway database)


def run() -> list[Measurement]:
    interval = poll_interval_seconds()
    logging.disable(logging.INFO)  # 500 users' audit events are not what this measures
    try:
        return [found for kind in databases() for found in _measure(kind, interval)]
    finally:
        logging.disable(logging.NOTSET)


def _measure(kind: str, interval: int) -> list[Measurement]:
    with scratch_app(kind) as app:
        with app.app_context():
            user_id, unread = _fill()
        client = signed_in_client(app, POLLER, PASSWORD)
        changed, unchanged, empty = _poll_us(client, {
            f"/notifications/badge?shown={unread + 1}": 200,
            f"/notifications/badge?shown={unread}": 204,
            "/-/health/live/": 200})
        count = _raw_count_us(app, kind, user_id)
    rate = TABS / interval
    print(f"  {kind}: {USERS * PER_USER:,} notifications, {unread} unread for the polling user; "
          f"{TABS} tabs every {interval} s = {rate:.1f} req/s, which at {changed:.0f} µs a "
          f"request (count changed) is {rate * changed / 1e6:.1%} of one core, at "
          f"{unchanged:.0f} µs (unchanged, 204) {rate * unchanged / 1e6:.1%}; the bare COUNT "
          f"{count:.0f} µs; an empty Flask request (health check) {empty:.0f} µs")
    baseline = "the same COUNT, raw driver"
    return [
        Measurement(kind, "bell: one poll, count changed", changed, "µs", None, count, baseline),
        Measurement(kind, "bell: one poll, unchanged (204)", unchanged, "µs", None, count,
                    baseline),
    ]


def poll_interval_seconds() -> int:
    """The interval the header really polls at, so the figure follows the template."""
    return int(re.search(r"every (\d+)s", COUNT_TEMPLATE.read_text()).group(1))


def _fill() -> tuple[int, int]:
    """500 users with 100 notifications each, every other one read; the polling user's id
    and unread count."""
    poller = create_user(POLLER, email="", password=PASSWORD)
    db.session.add_all(User(username=f"user{n}", email=f"user{n}@example.com")
                       for n in range(1, USERS))
    db.session.commit()
    user_ids = list(db.session.scalars(sa.select(User.id).order_by(User.id)))
    now = utcnow()
    rows = [{"user_id": user_id, "severity": "notice", "body": f"message {n}",
             "created": now - timedelta(minutes=n), "seen": n % 2 == 0,
             "seen_at": now if n % 2 == 0 else None}
            for user_id in user_ids for n in range(PER_USER)]
    db.session.execute(sa.insert(Notification), rows)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    return poller.id, PER_USER // 2


def _poll_us(client: FlaskClient, expected: dict[str, int]) -> list[float]:
    """Microseconds per request for each URL, best of the rounds; the URLs take turns, so
    drift on a shared machine hits them alike."""
    for url, status in expected.items():
        response = client.get(url)
        assert response.status_code == status and "Set-Cookie" not in response.headers, url
    best = dict.fromkeys(expected, float("inf"))
    for _ in range(ROUNDS):
        for url in expected:
            best[url] = min(best[url], _per_call_us(lambda url=url: client.get(url)))
    return list(best.values())


def _raw_count_us(app: Flask, kind: str, user_id: int) -> float:
    statement = (f"SELECT count(*) FROM notifications WHERE user_id = {raw.marker(kind)} "
                 f"AND seen = {raw.marker(kind)}")
    with raw.connection(app) as connection:
        cursor = connection.cursor()

        def count() -> None:
            cursor.execute(statement, (user_id, False))
            cursor.fetchone()

        best = min(_per_call_us(count) for _ in range(ROUNDS))
        cursor.close()
    return best


def _per_call_us(call: Callable[[], object]) -> float:
    started = perf_counter()
    for _ in range(REQUESTS):
        call()
    return (perf_counter() - started) / REQUESTS * 1e6


if __name__ == "__main__":
    print(table(run()))
