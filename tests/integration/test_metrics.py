"""GET /metrics: who may scrape it, and that its figures are right.

Counters live for the whole test process, so event and latency checks compare before/after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_event
from tests.helpers import events
from webapp import create_app
from webapp.core.config import ConfigurationError, config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.record import record_many
from webapp.models import Delivery, EventAction, JobRun
from webapp.system.metrics import MULTIPROCESS_ENV

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient, **kwargs) -> Samples:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def configured_app(database_uri: str, app: Flask) -> Iterator[Callable[..., Flask]]:
    """Makes apps with more settings on the same (already reset) database."""
    made: list[Flask] = []

    def make(**settings) -> Flask:
        made.append(create_app({**config_for_tests(database_uri), **settings}))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def token_app(configured_app: Callable[..., Flask]) -> Flask:
    return configured_app(METRICS_TOKEN=TOKEN)


def test_loopback_may_scrape_by_default_and_others_may_not(client: FlaskClient):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    for outsider in ("10.0.0.5", "2001:db8::1", "not-an-address"):
        assert client.get("/metrics",
                          environ_base={"REMOTE_ADDR": outsider}).status_code == 403


def test_a_configured_token_is_required_even_from_loopback(token_app: Flask):
    client = token_app.test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403
    assert client.get("/metrics",
                      headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_the_metrics_token_is_no_api_token_and_raises_no_alarm(token_app: Flask):
    token_app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with token_app.app_context():
        assert events(EventAction.SUSPICIOUS_REQUEST) == []


def test_the_allow_list_takes_networks_and_behind_a_proxy_the_client_address(
        configured_app: Callable[..., Flask]):
    proxied = configured_app(TRUSTED_PROXIES=1,
                             METRICS_ALLOW="10.1.0.0/16, 192.0.2.7").test_client()
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert proxied.get("/metrics", environ_base=via_proxy,
                       headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
    assert proxied.get("/metrics", environ_base=via_proxy,
                       headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 200
    assert proxied.get("/metrics", environ_base=via_proxy,
                       headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_a_bad_allow_list_stops_the_app_from_starting(database_uri: str):
    with pytest.raises(ConfigurationError, match="METRICS_ALLOW"):
        create_app({**config_for_tests(database_uri), "METRICS_ALLOW": ["10.0.0.0/33"]})


def test_committed_events_are_counted_per_action_and_rolled_back_ones_are_not(
        client: FlaskClient, ctx):
    before = scrape(client)
    make_event("custom_metric_a")
    make_event("custom_metric_a")
    make_event("custom_metric_b")
    record_many([{"action": "custom_metric_b"}, {"action": "custom_metric_b"}])  # the bulk path
    db.session.commit()
    record("custom_metric_c", {})
    db.session.rollback()
    after = scrape(client)

    def counted(action: str) -> float:
        name = "herald_events_recorded_total"
        return value(after, name, action=action) - value(before, name, action=action)

    assert (counted("custom_metric_a"), counted("custom_metric_b"),
            counted("custom_metric_c")) == (2, 3, 0)


def test_deliveries_by_transport_and_status_and_the_queue(client: FlaskClient, ctx):
    now = utcnow()
    rows = [("hook", "queued", 600), ("hook", "queued", 60), ("hook", "failed", 30),
            ("hook", "sent", 900), ("slack", "sending", 10), ("slack", "dead", 3000)]
    db.session.add_all([Delivery(transport_name=name, status=status, severity="notice",
                                 body="b", created=now - timedelta(seconds=age))
                        for name, status, age in rows])
    db.session.commit()
    samples = scrape(client)

    assert value(samples, "herald_deliveries", transport="hook", status="queued") == 2
    assert value(samples, "herald_deliveries", transport="hook", status="sent") == 1
    assert value(samples, "herald_deliveries", transport="slack", status="dead") == 1
    assert value(samples, "herald_delivery_queue_depth") == 4  # queued, failed, sending
    assert 600 <= value(samples, "herald_delivery_queue_oldest_age_seconds") < 660


def test_an_empty_queue_has_depth_and_age_zero(client: FlaskClient, ctx):
    samples = scrape(client)
    assert value(samples, "herald_delivery_queue_depth") == 0
    assert value(samples, "herald_delivery_queue_oldest_age_seconds") == 0


def test_job_runs_show_start_duration_and_status(client: FlaskClient, ctx):
    started = utcnow() - timedelta(minutes=1)
    db.session.add_all([
        JobRun(job_id="retention_cleanup", started_at=started,
               finished_at=started + timedelta(seconds=2.5), status="ok"),
        JobRun(job_id="event_rollups", started_at=started,
               finished_at=started + timedelta(seconds=1), status="error"),
        JobRun(job_id="export_cleanup", started_at=started, status="running"),
    ])
    db.session.commit()
    samples = scrape(client)

    assert value(samples, "herald_job_last_duration_seconds", job="retention_cleanup") == 2.5
    assert value(samples, "herald_job_last_status", job="event_rollups", status="error") == 1
    assert value(samples, "herald_job_last_status", job="export_cleanup", status="running") == 1
    assert ("herald_job_last_duration_seconds", (("job", "export_cleanup"),)) not in samples
    assert value(samples, "herald_job_last_started_timestamp_seconds",
                 job="retention_cleanup") == pytest.approx(started.timestamp())


def test_request_latency_is_observed_per_endpoint_name(client: FlaskClient):
    name = "herald_http_request_duration_seconds_count"
    before = scrape(client)
    client.get("/-/health/live/")
    client.get("/no/such/page")
    after = scrape(client)

    for endpoint in ("health.live", "unmatched"):
        assert value(after, name, endpoint=endpoint) - value(before, name,
                                                             endpoint=endpoint) == 1


RECORD_ONE_EVENT = """
import sys
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.record import record_many
from webapp.events import record
from webapp.events.record import record_many

with create_app(config_for_tests(sys.argv[1])).app_context():
    record("custom_multiprocess", {}, app="tests")
    db.session.commit()
"""


def test_multiprocess_mode_adds_up_the_counts_of_every_process(
        client: FlaskClient, database_uri: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    env_dir = str(tmp_path)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", RECORD_ONE_EVENT, database_uri], cwd=ROOT,
                       env={**_clean_env(), MULTIPROCESS_ENV: env_dir}, check=True, timeout=60)
    monkeypatch.setenv(MULTIPROCESS_ENV, env_dir)
    samples = scrape(client)

    assert value(samples, "herald_events_recorded_total", action="custom_multiprocess") == 2
    assert "herald_delivery_queue_depth" in {name for name, _labels in samples}


def _clean_env() -> dict[str, str]:
    """The child gets its database from its argument, not from the developer's HERALD_*."""
    return {key: val for key, val in os.environ.items() if not key.startswith("HERALD_")}


def test_job_runs_are_counted_by_outcome_with_their_durations(app: Flask, client: FlaskClient):
    from webapp.system.jobs import Job
    from webapp.system.scheduler import JobRunner, Lease

    runner = JobRunner(app, Lease("metrics"))
    jobs = {"ok": Job("metrics_ok", "works", 60, lambda: "done"),
            "idle": Job("metrics_idle", "nothing to do", 60, lambda: "", record_idle=False),
            "error": Job("metrics_error", "fails", 60, lambda: 1 / 0)}
    before = scrape(client)
    for job in (*jobs.values(), jobs["ok"]):
        runner.run(job)
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("herald_job_runs_total", job="metrics_ok", outcome="ok") == 2
    assert grew("herald_job_runs_total", job="metrics_idle", outcome="idle") == 1
    assert grew("herald_job_runs_total", job="metrics_error", outcome="error") == 1
    assert grew("herald_job_duration_seconds_count", job="metrics_ok") == 2
