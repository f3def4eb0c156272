"""Streaming CSV export of the whole demo dataset: rows per second and peak memory, against
the database's own command-line client writing the same query as CSV in the same run
(`sqlite3 -csv`, or psql's `COPY (...) TO STDOUT WITH CSV`), on every database of the run.

The export goes through the real endpoint (`POST /reports/export`, signed in, the response read
chunk by chunk from the test client as a browser would). It runs in a child process of its own,
so the peak RSS it reports (VmHWM) is this export's and not whatever an earlier benchmark left
in this interpreter. The client's peak comes from GNU time (`/usr/bin/time`, Debian's `time`
package): wait4() on a process forked from this interpreter would count the interpreter's own
peak, which the kernel carries over the exec. The client runs once before both, untimed: a
table just built or pushed out of the page cache is otherwise read from the disk by whichever
runs first (seen: 32,000 rows/s cold, 125,000 warm, for the same export). Targets (issue #7):
at least 100,000 rows/s and at most 200 MB.

Run alone: `.venv/bin/python -m bench.bench_export`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

import sqlalchemy as sa
from flask import Flask

from bench import Measurement, at_least, at_most, table
from bench.datasets import bench_app, databases, demo_app, signed_in_client
from webapp.core.extensions import db
from webapp.events.audit import audit_suppressed
from webapp.models import DataExport, Event
from webapp.system.system_settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = "/usr/bin/time"
RATE, PEAK = at_least(100_000), at_most(200)
#: Above any dataset: the whole table streams instead of becoming a background job.
STREAM_EVERYTHING = 2**31 - 1
#: The export's own columns (webapp.reports.export), as one statement for each client.
COLUMNS = ("event_uuid, created, action, app, username, user_pk, email, client_ip, country, "
           "city, asn, message")
RAW_SQL = {
    "sqlite": f"SELECT {COLUMNS}, CAST(context AS TEXT) FROM events "
              "ORDER BY created DESC, event_uuid DESC;",
    "postgresql": f"COPY (SELECT {COLUMNS}, context::text FROM events "
                  "ORDER BY created DESC, event_uuid DESC) TO STDOUT WITH (FORMAT csv, HEADER)",
}


def run() -> list[Measurement]:
    found = []
    for kind in databases():
        app = demo_app(kind)
        _client_csv(app, kind)  # warm-up: both read the table from memory, not from the disk
        ours = _child_export(app)
        raw_seconds, raw_peak_kb = _client_csv(app, kind)
        raw_rows = _count_rows(app)
        rate, raw_rate = ours["rows"] / ours["seconds"], raw_rows / raw_seconds
        client = _client_command(app, kind)[0]
        print(f"  {kind} export: {ours['rows']:,} rows, {ours['bytes'] / 1e6:,.0f} MB in "
              f"{ours['seconds']:.2f} s = {rate:,.0f} rows/s, peak RSS {ours['peak_mb']:.0f} MB "
              f"(before the export {ours['before_mb']:.0f} MB); {client}: {raw_rows:,} rows in "
              f"{raw_seconds:.2f} s = {raw_rate:,.0f} rows/s, peak RSS "
              f"{raw_peak_kb / 1024:.0f} MB", flush=True)
        found += [
            Measurement(kind, "CSV export of the whole dataset", rate, "rows/s", RATE,
                        raw_rate, f"{client} CSV, same query"),
            Measurement(kind, "CSV export peak RSS", ours["peak_mb"], "MB", PEAK,
                        raw_peak_kb / 1024, f"{client} CSV peak RSS"),
        ]
    return found


def _child_export(app: Flask) -> dict[str, float]:
    """The export in a child process on the same database (given by its URI, so the child
    never builds a dataset of its own)."""
    process = subprocess.Popen([sys.executable, "-m", "bench.bench_export", "--child",
                                app.config["SQLALCHEMY_DATABASE_URI"]],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output, _ = process.communicate()
    assert process.returncode == 0, "the export child failed"
    return json.loads(output.strip().splitlines()[-1])


def _client_csv(app: Flask, kind: str) -> tuple[float, int]:
    """Seconds and peak RSS (KB) of the command-line client writing the query as CSV."""
    if not Path(GNU_TIME).exists():
        raise SystemExit(f"{GNU_TIME} is missing: apt-get install time")
    environment = {**os.environ, "PGPASSWORD": _url(app).password or ""}
    with tempfile.NamedTemporaryFile("r") as report:
        started = perf_counter()
        subprocess.run([GNU_TIME, "-f", "%M", "-o", report.name, *_client_command(app, kind)],
                       stdout=subprocess.DEVNULL, env=environment, check=True)
        elapsed = perf_counter() - started
        return elapsed, int(report.read().split()[-1])


def _client_command(app: Flask, kind: str) -> list[str]:
    url = _url(app)
    if kind == "sqlite":
        return ["sqlite3", "-csv", "-header", url.database, RAW_SQL[kind]]
    return ["psql", "-X", "-q", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username,
            "-d", url.database, "-c", RAW_SQL[kind]]


def _url(app: Flask) -> sa.URL:
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])


def _count_rows(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Event)) or 0)


# --- the child: one export through the endpoint ------------------------------------------------

def _export_in_this_process(uri: str) -> dict[str, float]:
    app = bench_app(uri)
    client = signed_in_client(app)
    with app.app_context(), audit_suppressed():
        settings = get_settings()
        limit_before = settings.export_stream_limit
        settings.export_stream_limit = STREAM_EVERYTHING
        db.session.commit()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/reports/").text)[1]
    before_mb = _vm_hwm_mb()
    started = perf_counter()
    response = client.post("/reports/export", data={"format": "csv", "csrf_token": token},
                           buffered=False)
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    seconds = perf_counter() - started
    peak_mb = _vm_hwm_mb()
    with app.app_context(), audit_suppressed():
        export = db.session.scalars(sa.select(DataExport).order_by(DataExport.id.desc())).first()
        rows = export.rows
        _forget(export)
        get_settings().export_stream_limit = limit_before
        db.session.commit()
    return {"rows": rows, "seconds": seconds, "bytes": size, "peak_mb": peak_mb,
            "before_mb": before_mb}


def _forget(export: DataExport) -> None:
    """The shared dataset stays as other benchmarks expect it: no export row, no audit."""
    db.session.execute(sa.delete(Event).where(
        Event.action == "model_created", Event.model_name == "dataexport"))
    db.session.delete(export)


def _vm_hwm_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_export_in_this_process(sys.argv[-1])))
    else:
        print(table(run()))
