"""Fault drill (issue #11): a webhook receiver down for two real minutes, default retry delays.

    .venv/bin/python -m bench.fault_receiver_down [--down-seconds 120] [--events 5]

tests/fault/test_receiver_outage.py is the same drill in the suite with the retry delay cut
to a second; this one keeps Herald's production settings (first retry after 15-30 s, doubling,
5 attempts), so it shows the outage a real receiver would see. Loopback only: a temporary
SQLite database, a real `flask scheduler run` process and a real HTTP receiver that comes up
on its port only after the outage. It prints the queue as it goes and, at the end, when each
delivery arrived and after how many attempts. Exit code 1 unless every delivery arrived
exactly once. Takes the outage plus up to eight minutes (the last retry's backoff).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from tests.fault.herald_processes import herald_env, scheduler, stop
from tests.fault.scenario import all_sent, bodies_by_key, deliveries, notify_webhook
from tests.integration.receivers import HttpReceiver, free_port, http_receiver
from webapp import create_app
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.core.log_setup import held_event_lines
from webapp.events import record
from webapp.notifications.delivery import BACKOFF_CAP, MAX_ATTEMPTS

#: The longest the retries can take after the outage: the last backoff at its ceiling.
AFTER_OUTAGE_SECONDS = 8 * 60
PROGRESS_EVERY_SECONDS = 10


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fault_receiver_down",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--down-seconds", type=int, default=120, help="10 to 3600")
    parser.add_argument("--events", type=int, default=5, help="1 to 100")
    args = parser.parse_args(argv)
    if not 10 <= args.down_seconds <= BACKOFF_CAP.total_seconds():
        parser.error("--down-seconds must be between 10 and 3600")
    if not 1 <= args.events <= 100:
        parser.error("--events must be between 1 and 100")
    return args


def queue_line(started: datetime) -> str:
    states = deliveries()
    statuses = Counter(d.status for d in states)
    attempts = Counter(d.attempts for d in states)
    return (f"+{(utcnow() - started).total_seconds():5.0f} s  "
            f"{', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}; "
            f"attempts so far: {', '.join(f'{n}x{a}' for a, n in sorted(attempts.items()))}")


def watch(until: float, started: datetime, done: Callable[[], bool] = lambda: False) -> None:
    """Print the queue every few seconds until `until` (monotonic) or `done()`."""
    while time.monotonic() < until and not done():
        print(queue_line(started), flush=True)
        time.sleep(min(PROGRESS_EVERY_SECONDS, max(until - time.monotonic(), 0)))


def verdict(receiver: HttpReceiver, started: datetime, events: int) -> bool:
    states = deliveries()
    received = bodies_by_key(receiver.requests)
    print("\ndelivery  status  attempts  arrived after")
    for delivery in states:
        arrived = (f"{(delivery.sent_at - started).total_seconds():.0f} s"
                   if delivery.sent_at else "-")
        print(f"{delivery.id:>8}  {delivery.status:6}  {delivery.attempts:>8}  {arrived:>13}")
    once = (len(states) == events and all(d.status == "sent" for d in states)
            and set(received) == {str(d.key) for d in states}
            and all(len(bodies) == 1 for bodies in received.values()))
    print(f"\n{len(received)} of {events} deliveries arrived, "
          f"{sum(len(b) for b in received.values())} requests in all: "
          f"{'each exactly once' if once else 'NOT each exactly once'} "
          f"(at most {MAX_ATTEMPTS} attempts each)")
    return once


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herald-receiver-down-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'herald.sqlite3'}"
        app = create_app({"SECRET_KEY": "drill", "SQLALCHEMY_DATABASE_URI": uri})
        port = free_port()
        with app.app_context(), held_event_lines():
            db.create_all()
            notify_webhook(f"http://127.0.0.1:{port}/hook", "custom_outage")
            with scheduler(herald_env(uri), Path(tmp) / "scheduler.log") as process:
                started = utcnow()
                for n in range(args.events):
                    record("custom_outage", {"n": n}, app="fault-drill")
                db.session.commit()
                print(f"receiver down for {args.down_seconds} s; {args.events} events recorded",
                      flush=True)
                watch(time.monotonic() + args.down_seconds, started)
                with http_receiver(port=port) as receiver:
                    print("receiver up", flush=True)
                    watch(time.monotonic() + AFTER_OUTAGE_SECONDS, started,
                          done=lambda: all_sent(args.events))
                    print(queue_line(started))
                    ok = verdict(receiver, started, args.events)
                stop(process)
            db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
