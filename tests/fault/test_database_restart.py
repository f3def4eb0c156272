"""PostgreSQL restarted under a running Herald (gunicorn workers and the scheduler process, as
`make serve` runs them): no Herald process is restarted, every event whose ingest answered
201 is stored, and the scheduler's jobs, which fail while the database is away, work again.

Both tests share one Herald on a private PostgreSQL server (tests/fault/private_postgres.py),
so the suite runs them on SQLite and PostgreSQL alike; they are skipped where PostgreSQL
cannot run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.factories import make_token, make_user
from tests.fault.herald_processes import (
    herald_env,
    process_tree,
    ready,
    serving,
    stop,
    wait_until,
)
from tests.fault.private_postgres import PrivatePostgres
from tests.fault.scenario import notify_webhook
from tests.integration.receivers import HttpReceiver, free_port, http_receiver
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db

#: Long enough for every scheduler job (each runs every second) to fail meanwhile.
DOWN_SECONDS = 2
CLIENTS = 4
BULK_EVERY, BULK_SIZE = 5, 10


@dataclass
class Herald:
    base_url: str
    token: str
    database_uri: str
    postgres: PrivatePostgres
    receiver: HttpReceiver
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Answers:
    """What the ingest clients were told: the pks of each 201 with the time its request was
    sent, and every other answer by status (or by exception name when there was none)."""

    stored: list[tuple[float, list[str]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pks(self) -> set[str]:
        with self.lock:
            return {pk for _sent, pks in self.stored for pk in pks}

    def stored_since(self, moment: float) -> int:
        with self.lock:
            return sum(len(pks) for sent, pks in self.stored if sent > moment)


def _ingest(session: requests.Session, base_url: str, n: int) -> requests.Response:
    """One ingest call: every BULK_EVERY-th is a bulk one."""
    if n % BULK_EVERY:
        return session.post(f"{base_url}/api/v3/events/events/", timeout=15,
                            json={"action": "restart_drill", "app": "fault", "context": {"n": n}})
    items = [{"action": "restart_drill", "app": "fault", "context": {"n": n, "item": item}}
             for item in range(BULK_SIZE)]
    return session.post(f"{base_url}/api/v3/events/events/bulk/", json=items, timeout=15)


def _stored_pks(response: requests.Response) -> list[str]:
    found = response.json()
    return found["pks"] if "pks" in found else [found["pk"]]


@contextmanager
def ingesting(herald: Herald) -> Iterator[Answers]:
    """Clients posting events as fast as they are answered, until the block ends."""
    answers, done = Answers(), threading.Event()

    def client(first: int) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {herald.token}"
            for n in range(first, 10**9, CLIENTS):
                if done.is_set():
                    return
                sent = time.monotonic()
                try:
                    response = _ingest(session, herald.base_url, n)
                except requests.RequestException as error:
                    answer = type(error).__name__
                else:
                    answer = str(response.status_code)
                with answers.lock:
                    if answer == "201":
                        answers.stored.append((sent, _stored_pks(response)))
                    else:
                        answers.refused.append(answer)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        yield answers
    finally:
        done.set()
        for thread in clients:
            thread.join()


def _prepare(uri: str, receiver: HttpReceiver) -> str:
    """Schema, an administrator's API token (returned), and a webhook rule for probes."""
    app = create_app(config_for_tests(uri))
    with app.app_context():
        db.create_all()
        _token, key = make_token(make_user("admin", superuser=True))
        notify_webhook(receiver.url, "custom_probe")
        db.session.remove()
        db.engine.dispose()
    return key


def _all_stored_pks(uri: str) -> set[str]:
    engine = sa.create_engine(uri)
    with engine.connect() as connection:
        pks = {str(pk) for pk in connection.scalars(sa.text("SELECT event_uuid FROM events"))}
    engine.dispose()
    return pks


def _probe_arrives(herald: Herald) -> None:
    """The scheduler still works: a new event is matched and its webhook sent."""
    already = len(herald.receiver.requests)
    probe = requests.post(f"{herald.base_url}/api/v3/events/events/", timeout=15,
                          headers={"Authorization": f"Bearer {herald.token}"},
                          json={"action": "probe", "app": "fault"})
    assert probe.status_code == 201, probe.text
    delivered = herald.receiver.wait_for(already + 1, timeout=20)[-1]
    assert delivered.json()["event"]["pk"] == probe.json()["pk"]


@pytest.fixture(scope="module")
def herald(postgres: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    """`make serve` on the private server; at the end, the same processes still run and stop
    cleanly."""
    uri = postgres.create_database("herald")
    port, log = free_port(), tmp_path_factory.mktemp("restart") / "herald.log"
    with http_receiver() as receiver:
        herald = Herald(f"http://127.0.0.1:{port}", _prepare(uri, receiver), uri, postgres,
                        receiver, log)
        with serving(herald_env(uri), log, port) as process:
            wait_until(lambda: ready(herald.base_url), 60, "Herald to serve")
            processes = process_tree(process.pid)
            yield herald
            assert process_tree(process.pid) == processes, "a Herald process was restarted"
            assert stop(process) == 0, herald.log_text()


def test_a_quiet_restart_costs_no_request(herald: Herald):
    """Restarted while nobody asks anything (a maintenance window): every worker's pooled
    connections are dead, and pre-ping replaces them before the first request uses one."""
    with ingesting(herald) as answers:
        wait_until(lambda: len(answers.pks()) >= 20, 30, "the first events")
    herald.postgres.stop()
    time.sleep(DOWN_SECONDS)
    herald.postgres.start()

    with ingesting(herald) as answers:
        wait_until(lambda: len(answers.pks()) >= 40, 30, "events after the restart")
    assert answers.refused == []
    _probe_arrives(herald)


def test_a_crash_under_load_keeps_every_acknowledged_event(herald: Herald):
    """Stopped the hard way (`immediate`, as a crash or the OOM killer would) while events
    pour in: what was acknowledged must come back from the WAL."""
    with ingesting(herald) as answers:
        wait_until(lambda: len(answers.pks()) >= 50, 30, "the first events")
        herald.postgres.stop("immediate")
        time.sleep(DOWN_SECONDS)
        assert not ready(herald.base_url), "readiness must fail while the database is down"
        herald.postgres.start()
        back = time.monotonic()
        wait_until(lambda: answers.stored_since(back) >= 50, 30, "ingest to work again")

    assert answers.pks() <= _all_stored_pks(herald.database_uri)
    refused = set(answers.refused)
    assert refused, "the outage never reached the ingest clients"
    assert refused <= {"500", "503"}, refused  # an error answer, never a hang or a reset
    assert "Job notification_matching failed" in herald.log_text()  # and the scheduler lived
    _probe_arrives(herald)
