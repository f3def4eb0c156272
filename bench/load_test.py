"""The load test (issue #11): concurrent clients against `make serve` on PostgreSQL.

    .venv/bin/python -m bench.load_test [--seconds 60] [--clients 50] [--workers N]

Run on demand, never by `python -m bench`. Loopback only and bounded in time. It creates a
fresh database on the local PostgreSQL (127.0.0.1:5432; dropped at the end), migrates and
bootstraps it as `make serve` does, seeds demo events with `flask demo`, adds regular users and
a rule that rings their bells, then starts webapp.system.serve (gunicorn workers plus the
scheduler process) and runs the clients, each as fast as it is answered (no think time):

- bell tabs (4 in 10): signed-in users polling the bell's badge as its htmx attributes do
  (`GET /notifications/badge?shown=N`, HX-Request), carrying on with the `shown` each answer
  gives; a 204 ("still right") is a success like a 200;
- API ingesters (3 in 10): the administrator's bearer token, `POST /api/v3/events/events/`,
  every fifth call `/bulk/` with 20 events; one single event in ten matches the bell rule, so
  the scheduler matches and notifies while the load runs and the badges change;
- Logs readers (3 in 10): signed-in administrators loading `/events/` with a filter, then four
  htmx fragment requests (HX-Request) with other filters, as the filter form sends them.

It prints throughput, p50 and p99 per kind of request and the errors (any unexpected status,
timeout or refused connection), writes the same as JSON under bench/results/, and checks that
every event whose ingest answered 201 is stored and that the matcher caught up. Exit code 1
on any error. The clients share the machine with the server, so on a small machine the
figures are a floor, not Herald's ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import requests
import sqlalchemy as sa

from tests.factories import make_group, make_rule, make_user
from tests.fault.herald_processes import FLASK, ROOT, herald_env, ready, serving, stop, wait_until
from tests.integration.receivers import free_port
from webapp import create_app
from webapp.core.extensions import db
from webapp.core.log_setup import held_event_lines
from webapp.models import NotificationTransport
from webapp.notifications.defaults import LOCAL_TRANSPORT
from webapp.system.serve import default_workers

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
RESULTS = Path(__file__).parent / "results"
ADMIN_PASSWORD = "load-test-admin-password"  # noqa: S105 (a throwaway database)
USER_PASSWORD = "load-test-user-password"  # noqa: S105
API_TOKEN = "load-test-api-token-0123456789abcdef"  # noqa: S105
REGULAR_USERS = 10
#: Who each client is, repeated over the clients: 4 bell tabs, 3 ingesters, 3 Logs readers.
PERSONAS = ("bell", "ingest", "logs", "bell", "ingest", "logs", "bell", "ingest", "logs", "bell")
KINDS = ("bell", "ingest", "ingest_bulk", "logs_page", "logs_fragment")
BULK_EVERY, BULK_SIZE, ALERT_EVERY = 5, 20, 10
FRAGMENTS_PER_PAGE = 4
#: Filters as the Logs form puts them in the URL; the ingested events' app among them.
LOGS_FILTERS = ({}, {"action": "login_failed", "period": "7d"}, {"action": ["login", "logout"]},
                {"period": "24h"}, {"q": "password"}, {"app": "load-test"}, {"country": "DE"},
                {"client_ip": "10.0.0.0/8"}, {"username": "admin"})
REQUEST_TIMEOUT = 30
MATCHING_CATCH_UP_SECONDS = 60
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_SHOWN = re.compile(r"shown=(\d+)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=_bounded(5, 600), default=60)
    parser.add_argument("--clients", type=_bounded(1, 500), default=50)
    parser.add_argument("--workers", type=_bounded(1, 32), default=default_workers(),
                        help="gunicorn workers (default: what `make serve` starts)")
    parser.add_argument("--events", type=_bounded(0, 10_000_000), default=50_000,
                        help="demo events seeded before the run")
    parser.add_argument("--database", default="herald_load",
                        help="the database created (and dropped) on the local PostgreSQL")
    return parser.parse_args(argv)


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


# --- what the clients measure -------------------------------------------------------------

@dataclass
class Samples:
    """One client's results: seconds per successful request and failures, by kind."""

    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    acknowledged: int = 0  # events the API answered 201 for

    def merge(self, other: Samples) -> None:
        for kind in KINDS:
            self.times[kind] += other.times[kind]
            self.errors[kind] += other.errors[kind]
        self.acknowledged += other.acknowledged


def timed(samples: Samples, kind: str, session: requests.Session, method: str, url: str,
          expected: tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response | None:
    """One request: its time when answered as expected, else an error (None returned)."""
    started = perf_counter()
    try:
        response = session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
    except requests.RequestException as error:
        samples.errors[kind].append(f"{type(error).__name__}: {error}"[:300])
        return None
    elapsed = perf_counter() - started
    if response.status_code not in expected:
        samples.errors[kind].append(f"{response.status_code}: {response.text[:300]}")
        return None
    samples.times[kind].append(elapsed)
    return response


# --- the clients ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Client:
    number: int
    persona: str
    username: str  # signs in as this user (ingesters use the token instead)


def signed_in(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/auth/login", timeout=REQUEST_TIMEOUT)
    token = _CSRF_META.search(page.text)
    response = session.post(f"{base_url}/auth/login", allow_redirects=False,
                            timeout=REQUEST_TIMEOUT, data={"username": username,
                                                           "password": password,
                                                           "csrf_token": token and token[1]})
    if response.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {response.status_code}")
    return session


def bell_tab(base_url: str, session: requests.Session, deadline: float, samples: Samples,
             _rng: random.Random, _number: int) -> None:
    shown = ""
    while time.monotonic() < deadline:
        response = timed(samples, "bell", session, "GET",
                         f"{base_url}/notifications/badge?shown={shown}", (200, 204),
                         headers={"HX-Request": "true"})
        if response is not None and response.status_code == 200:
            found = _SHOWN.search(response.text)
            shown = found[1] if found else shown


def ingester(base_url: str, session: requests.Session, deadline: float, samples: Samples,
             rng: random.Random, number: int) -> None:
    session.headers["Authorization"] = f"Bearer {API_TOKEN}"
    calls = 0
    while time.monotonic() < deadline:
        calls += 1
        if calls % BULK_EVERY == 0:
            items = [_event(rng, number, calls, "load_ingest") for _ in range(BULK_SIZE)]
            response = timed(samples, "ingest_bulk", session, "POST",
                             f"{base_url}/api/v3/events/events/bulk/", (201,), json=items)
            samples.acknowledged += response.json()["created"] if response is not None else 0
        else:
            action = "load_alert" if calls % ALERT_EVERY == 1 else "load_ingest"
            response = timed(samples, "ingest", session, "POST",
                             f"{base_url}/api/v3/events/events/", (201,),
                             json=_event(rng, number, calls, action))
            samples.acknowledged += 1 if response is not None else 0


def _event(rng: random.Random, client: int, call: int, action: str) -> dict[str, Any]:
    return {"action": action, "app": "load-test",
            "client_ip": f"10.{client % 256}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "context": {"client": client, "call": call, "message": f"load test call {call}"}}


def logs_reader(base_url: str, session: requests.Session, deadline: float, samples: Samples,
                rng: random.Random, _number: int) -> None:
    while time.monotonic() < deadline:
        timed(samples, "logs_page", session, "GET", f"{base_url}/events/",
              params=rng.choice(LOGS_FILTERS))
        for _ in range(FRAGMENTS_PER_PAGE):
            if time.monotonic() >= deadline:
                break
            timed(samples, "logs_fragment", session, "GET", f"{base_url}/events/",
                  params=rng.choice(LOGS_FILTERS), headers={"HX-Request": "true"})


BEHAVIOUR = {"bell": bell_tab, "ingest": ingester, "logs": logs_reader}


def clients(count: int) -> list[Client]:
    """Bell tabs take turns over the administrator and the regular users; Logs readers are
    administrators (Logs is an admin page)."""
    people = ["admin", *(f"load-user-{n}" for n in range(1, REGULAR_USERS + 1))]
    made = []
    for number in range(count):
        persona = PERSONAS[number % len(PERSONAS)]
        made.append(Client(number, persona, people[number % len(people)]
                           if persona == "bell" else "admin"))
    return made


def run_clients(base_url: str, chosen: list[Client], seconds: int) -> tuple[Samples, float]:
    """Sign everyone in, then run all clients at once for `seconds`; merged samples and the
    measured wall time."""
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        sessions = list(pool.map(lambda c: signed_in(
            base_url, c.username, ADMIN_PASSWORD if c.username == "admin" else USER_PASSWORD),
            chosen))
        started = time.monotonic()
        deadline = started + seconds
        per_client = list(pool.map(lambda pair: _run_one(base_url, *pair, deadline),
                                   zip(chosen, sessions, strict=True)))
        elapsed = time.monotonic() - started
    merged = Samples()
    for samples in per_client:
        merged.merge(samples)
    return merged, elapsed


def _run_one(base_url: str, client: Client, session: requests.Session,
             deadline: float) -> Samples:
    samples = Samples()
    with session:
        BEHAVIOUR[client.persona](base_url, session, deadline, samples,
                                  random.Random(client.number), client.number)
    return samples


# --- the site under load -------------------------------------------------------------------

@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """An empty database on the local PostgreSQL, dropped afterwards (also when interrupted)."""
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        raise SystemExit(f"PostgreSQL does not answer at {POSTGRES}: {error.orig}") from None
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(env: dict[str, str], uri: str, events: int, log: Path) -> None:
    """What `make serve` does first (migrate, bootstrap), the demo events, the regular users
    and the rule ringing their bells on `load_alert` events."""
    commands = [["db", "upgrade"], ["bootstrap"]]
    if events:
        commands.append(["demo", "--events", str(events), "--seed", "1"])
    for command in commands:
        with log.open("a") as output:
            subprocess.run([FLASK, "--app", "app", *command], cwd=ROOT, env=env, check=True,
                           stdout=output, stderr=subprocess.STDOUT)
    app = create_app({"SECRET_KEY": "load-test", "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context(), held_event_lines():
        users = [make_user(f"load-user-{n}", password=USER_PASSWORD)
                 for n in range(1, REGULAR_USERS + 1)]
        bell = db.session.scalar(sa.select(NotificationTransport)
                                 .where(NotificationTransport.name == LOCAL_TRANSPORT))
        make_rule("load alerts", actions=("custom_load_alert",), transports=(bell,),
                  group=make_group("load-users", *users))
        db.engine.dispose()


def stored_events(uri: str) -> tuple[int, int]:
    """(events the ingesters made that are stored, events still waiting to be matched)."""
    engine = sa.create_engine(uri)
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT count(*) FROM events WHERE app = 'load-test'"))
        waiting = connection.scalar(sa.text("SELECT count(*) FROM event_outbox"))
    engine.dispose()
    return stored, waiting


def server_errors(log: Path) -> list[str]:
    """Error lines the server wrote (event lines are JSON and start with `{`)."""
    with log.open(errors="replace") as lines:
        return [line.rstrip() for line in lines if not line.startswith("{")
                and re.search(r"\b(ERROR|CRITICAL)\b|Traceback", line)]


# --- the report ----------------------------------------------------------------------------

def summary(samples: Samples, elapsed: float) -> dict[str, dict[str, Any]]:
    kinds = {kind: _figures(samples.times[kind], samples.errors[kind], elapsed)
             for kind in KINDS}
    kinds["all"] = _figures([t for kind in KINDS for t in samples.times[kind]],
                            [e for kind in KINDS for e in samples.errors[kind]], elapsed)
    return kinds


def _figures(times: list[float], errors: list[str], elapsed: float) -> dict[str, Any]:
    p50, p99 = _percentiles(times)
    return {"requests": len(times) + len(errors), "errors": len(errors),
            "throughput_per_s": len(times) / elapsed, "p50_ms": p50, "p99_ms": p99,
            "error_samples": sorted(set(errors))[:5]}


def _percentiles(times: list[float]) -> tuple[float | None, float | None]:
    """p50 and p99 in milliseconds (None without a successful request)."""
    if len(times) < 2:
        return (times[0] * 1000,) * 2 if times else (None, None)
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def table(kinds: dict[str, dict[str, Any]]) -> str:
    rows = [("kind", "requests", "req/s", "p50 ms", "p99 ms", "errors")]
    rows += [(kind, f"{f['requests']:,}", f"{f['throughput_per_s']:,.1f}", _ms(f["p50_ms"]),
              _ms(f["p99_ms"]), f"{f['errors']:,}") for kind, f in kinds.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) if i else cell.ljust(width)
                       for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = clients(args.clients)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="herald-load-") as tmp, \
            fresh_database(args.database) as uri:
        log = Path(tmp) / "server.log"
        env = herald_env(uri, BOOTSTRAP_PASSWORD=ADMIN_PASSWORD, BOOTSTRAP_TOKEN=API_TOKEN)
        print(f"preparing {args.database}: migrate, bootstrap, {args.events:,} demo events ...",
              flush=True)
        prepare(env, uri, args.events, log)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with serving(env, log, port, args.workers) as herald:
            wait_until(lambda: ready(base_url), 120, "Herald to serve")
            print(f"running {len(chosen)} clients for {args.seconds} s ...", flush=True)
            busy_before = os.getloadavg()[0]  # other work on this machine skews the figures
            samples, elapsed = run_clients(base_url, chosen, args.seconds)
            caught_up = _catch_up(uri)
            stopped = stop(herald)
        stored, waiting = stored_events(uri)
        errors = server_errors(log)
    kinds = summary(samples, elapsed)
    report = {
        "started": stamp, "seconds": round(elapsed, 1), "clients": len(chosen),
        "personas": {p: sum(c.persona == p for c in chosen) for p in BEHAVIOUR},
        "workers": args.workers, "database": "postgresql",
        "demo_events": args.events, "cores": os.cpu_count(),
        "load_average_before": busy_before, "kinds": kinds,
        "events_acknowledged": samples.acknowledged, "events_stored": stored,
        "matching_caught_up_seconds": caught_up, "events_left_unmatched": waiting,
        "server_error_lines": errors[:40], "server_exit_code": stopped,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"load-test-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(_report_text(report, path))
    failed = (kinds["all"]["errors"] or stored != samples.acknowledged or waiting or errors
              or stopped)
    return 1 if failed else 0


def _catch_up(uri: str) -> float | None:
    """Seconds the matcher needed after the load to empty the outbox (None: not within
    MATCHING_CATCH_UP_SECONDS)."""
    started = time.monotonic()
    try:
        wait_until(lambda: stored_events(uri)[1] == 0, MATCHING_CATCH_UP_SECONDS, "matching")
    except AssertionError:
        return None
    return round(time.monotonic() - started, 1)


def _report_text(report: dict[str, Any], path: Path) -> str:
    personas = ", ".join(f"{n} {p}" for p, n in report["personas"].items())
    lines = [
        "", f"{report['clients']} clients ({personas}) for {report['seconds']} s against "
        f"gunicorn ({report['workers']} workers) + scheduler on PostgreSQL, "
        f"{report['demo_events']:,} demo events; {report['cores']} cores, load average "
        f"{report['load_average_before']:.1f} before the run", "", table(report["kinds"]), "",
        f"events acknowledged (201): {report['events_acknowledged']:,}; stored: "
        f"{report['events_stored']:,}",
        f"matcher caught up {report['matching_caught_up_seconds']} s after the load; "
        f"events left unmatched: {report['events_left_unmatched']}",
        f"server error lines: {len(report['server_error_lines'])}; server exit code: "
        f"{report['server_exit_code']}",
    ]
    for kind, figures in report["kinds"].items():
        lines += [f"  {kind}: {sample}" for sample in figures["error_samples"]]
    lines += [*(f"  server: {line}" for line in report["server_error_lines"][:10]),
              f"written to {path.relative_to(ROOT)}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
