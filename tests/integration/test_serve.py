"""`python -m webapp.system.serve` (what `make serve` runs), as real processes: gunicorn workers
answer, only the dedicated scheduler process holds the lease, and SIGTERM stops everything and
frees the lease. It runs on its own temporary SQLite database whatever the suite runs on: the
lease is one row per database, and the suite's database is not for a live scheduler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.integration import test_scheduler_serving as serving
from tests.integration.test_scheduler_serving import ROOT, Site, free_port, wait_for

site = serving.site  # the same fixture: a temporary SQLite database and its environment

WORKERS = 2


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health/ready/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def serving(site: Site, port: int) -> Iterator[subprocess.Popen]:
    """The supervisor; if a test leaves it running, it and its children (each in its own
    process group) are killed."""
    with (site.tmp_path / "process.log").open("w") as output:
        serve = subprocess.Popen(
            [sys.executable, "-m", "webapp.system.serve", "--port", str(port),
             "--workers", str(WORKERS)], cwd=ROOT, env=site.env, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield serve
    finally:
        if serve.poll() is None:
            for group in (serve.pid, *children_of(serve.pid)):
                with suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            serve.wait()


def test_serve_runs_gunicorn_workers_and_one_scheduler_and_stops_cleanly(site: Site):
    port = free_port()
    with serving(site, port) as serve:  # site.env has HERALD_SCHEDULER=true: workers ignore it
        assert wait_for(lambda: ready(port), 30), site.log()
        assert wait_for(lambda: site.lease_pid() is not None, 20), site.log()
        scheduler, web = sorted(children_of(serve.pid),
                                key=lambda pid: "gunicorn" in command_line(pid))
        workers = children_of(web)
        everyone = [scheduler, web, *workers]

        assert "scheduler run" in command_line(scheduler)
        assert len(workers) == WORKERS
        time.sleep(2)  # a worker starting a scheduler would have taken part by now
        assert site.lease_pid() == scheduler, site.log()
        assert "Scheduler started in process" not in site.log()

        os.kill(serve.pid, signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, site.log()
    assert not any(alive(pid) for pid in everyone)
    assert site.lease_pid() is None
