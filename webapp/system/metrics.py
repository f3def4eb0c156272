"""Prometheus metrics: what each process counts, and what the database says at scrape time.

Two kinds of figures:
- Counted in the process where they happen (events recorded, request latency): a web worker
  and the scheduler each count their own. Under `make serve` every process writes its counts
  to files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen when it
  is imported), and a scrape adds up the files of all processes, living and dead.
- Read from the database when scraped (deliveries, the queue, job runs): the rows are the
  truth whichever process wrote them, so one grouped query each answers for all processes
  without double counting.

Events are counted when their transaction commits, from the list record() and record_many()
keep in the session for their JSON log lines (emptied on rollback), so both the single and the
bulk path count, and a rolled-back event never does.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.record import _PENDING_KEY as COMMITTED_EVENTS_KEY
from webapp.models import Delivery, DeliveryStatus, JobRun

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Deliveries still to be sent: the queue.
UNSETTLED = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.FAILED)

# This process's own metrics, kept off prometheus_client's global registry so a scrape shows
# exactly Herald's families (no per-process CPU figures that mean nothing when summed).
PROCESS_REGISTRY = CollectorRegistry()
EVENTS_RECORDED = Counter("herald_events_recorded", "Events committed, by action.",
                          ["action"], registry=PROCESS_REGISTRY)
REQUEST_SECONDS = Histogram("herald_http_request_duration_seconds",
                            "Time to answer a request, by Flask endpoint.", ["endpoint"],
                            registry=PROCESS_REGISTRY)
JOB_RUNS = Counter("herald_job_runs", "Scheduled job runs, by job and outcome (ok, idle, "
                   "error).", ["job", "outcome"], registry=PROCESS_REGISTRY)
JOB_SECONDS = Histogram("herald_job_duration_seconds", "Time a scheduled job ran, by job.",
                        ["job"], registry=PROCESS_REGISTRY)


def scrape() -> bytes:
    """The Prometheus text for this installation. Needs an application context."""
    registry = CollectorRegistry()
    path = os.environ.get(MULTIPROCESS_ENV)
    registry.register(MultiProcessCollector(None, path=path) if path else PROCESS_REGISTRY)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield from _delivery_metrics()
        yield from _job_metrics()


def _delivery_metrics() -> Iterator[Metric]:
    by_status = GaugeMetricFamily("herald_deliveries", "Deliveries in the ledger.",
                                  labels=["transport", "status"])
    depth = 0
    for transport, status, count in db.session.execute(
            sa.select(Delivery.transport_name, Delivery.status, sa.func.count())
            .group_by(Delivery.transport_name, Delivery.status)):
        by_status.add_metric([transport, status], count)
        depth += count if status in UNSETTLED else 0
    yield by_status
    yield GaugeMetricFamily("herald_delivery_queue_depth",
                            "Deliveries queued, being sent or waiting to retry.", value=depth)
    oldest = db.session.scalar(sa.select(sa.func.min(Delivery.created))
                               .where(Delivery.status.in_(UNSETTLED)))
    age = (utcnow() - oldest).total_seconds() if oldest else 0.0
    yield GaugeMetricFamily("herald_delivery_queue_oldest_age_seconds",
                            "Age of the oldest delivery still to be sent (0: none).", value=age)


def _job_metrics() -> Iterator[Metric]:
    """The last run of each periodic job (JobRun keeps only that): when it started, how long
    it took, and its status as a 1 on the matching label, so `== 1` alerts on errors."""
    started = GaugeMetricFamily("herald_job_last_started_timestamp_seconds",
                                "When the job's last run started.", labels=["job"])
    duration = GaugeMetricFamily("herald_job_last_duration_seconds",
                                 "How long the job's last finished run took.", labels=["job"])
    status = GaugeMetricFamily("herald_job_last_status",
                               "1 for the job's last run status (running, ok, error).",
                               labels=["job", "status"])
    for run in db.session.scalars(sa.select(JobRun).order_by(JobRun.job_id)):
        started.add_metric([run.job_id], run.started_at.timestamp())
        if run.finished_at is not None:
            duration.add_metric([run.job_id],
                                (run.finished_at - run.started_at).total_seconds())
        status.add_metric([run.job_id, run.status], 1)
    yield from (started, duration, status)


@sa.event.listens_for(Session, "after_commit", insert=True)
def _count_committed_events(session: Session) -> None:
    """Runs ahead of record.py's own after_commit listener, which pops the list."""
    actions = Tally(shape["action"] for shape in session.info.get(COMMITTED_EVENTS_KEY, ()))
    for action, count in actions.items():
        EVENTS_RECORDED.labels(action=action).inc(count)
