"""HERALD_SCHEDULER=true in real processes: only a serving process runs a scheduler, and a clean
exit frees the lease, so a one-off command run beside `flask run` never delays a job.

Each test runs `flask --app app ...` as `make run` does, on its own temporary SQLite database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.models import JobRun, SchedulerLease

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
# The first run of the 5-minute jobs comes 5 s after a scheduler starts.
FIRST_JOB_WITHIN = 10


class Site:
    """One Herald database and the environment of processes sharing it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        uri = f"sqlite:///{tmp_path / 'herald.sqlite3'}"
        self.app = create_app(config_for_tests(uri))
        with self.app.app_context():
            db.create_all()
        self.env = {**os.environ, "HERALD_SECRET_KEY": "x" * 32, "HERALD_SCHEDULER": "true",
                    "HERALD_SQLALCHEMY_DATABASE_URI": uri}
        for inherited in ("FLASK_DEBUG", "FLASK_RUN_FROM_CLI", "WERKZEUG_RUN_MAIN"):
            self.env.pop(inherited, None)

    def command(self, *args: str) -> None:
        done = subprocess.run([FLASK, "--app", "app", *args], cwd=ROOT, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stdout

    @contextmanager
    def process(self, *args: str) -> Iterator[subprocess.Popen]:
        """A long-running `flask` process in its own process group, killed if left running."""
        with (self.tmp_path / "process.log").open("w") as output:
            process = subprocess.Popen([FLASK, "--app", "app", *args], cwd=ROOT, env=self.env,
                                       stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    @contextmanager
    def shell(self) -> Iterator[None]:
        """`flask shell` left open: a one-off command that lasts, with the app loaded."""
        shell = subprocess.Popen([FLASK, "--app", "app", "shell"], cwd=ROOT, env=self.env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        try:
            shell.stdin.write("print('shell' + ' ready')\n")
            shell.stdin.flush()
            assert "shell ready" in shell.stdout.readline()
            yield
        finally:
            shell.communicate(timeout=20)
        assert shell.returncode == 0

    def stop(self, process: subprocess.Popen, how: signal.Signals) -> int:
        os.killpg(process.pid, how)
        return process.wait(timeout=20)

    def lease_pid(self) -> int | None:
        """The process id in the lease holder's name (host:pid:random), or None if free."""
        with self.app.app_context():
            lease = db.session.get(SchedulerLease, "scheduler")
            holder = lease.holder if lease else None
            db.session.remove()
        return int(holder.rsplit(":", 2)[1]) if holder else None

    def job_run_pid(self, job_id: str) -> int | None:
        with self.app.app_context():
            run = db.session.get(JobRun, job_id)
            holder = run.holder if run and run.status == "ok" else None
            db.session.remove()
        return int(holder.rsplit(":", 2)[1]) if holder else None

    def log(self) -> str:
        return (self.tmp_path / "process.log").read_text()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = Site(tmp_path)
    yield site
    with site.app.app_context():
        db.session.remove()
        db.engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health/live/", timeout=1):
            return True
    except OSError:
        return False


def test_one_off_commands_beside_a_serving_app_delay_no_job(site: Site):
    site.command("bootstrap")  # as `make run` does before serving
    assert site.lease_pid() is None

    port = free_port()
    with site.shell(), site.process("run", "--port", str(port)) as server:
        assert wait_for(lambda: answers(port), 20), site.log()
        assert wait_for(lambda: site.lease_pid() == server.pid, 5), site.log()
        site.command("users", "create", "bob", "--password", "bob-password-1")

        assert site.lease_pid() == server.pid
        assert wait_for(lambda: site.job_run_pid("retention_cleanup") == server.pid,
                        FIRST_JOB_WITHIN), site.log()


def test_ctrl_c_on_flask_run_frees_the_lease_held_by_the_reloaders_serving_child(site: Site):
    port = free_port()
    with site.process("run", "--port", str(port), "--reload") as watcher:
        assert wait_for(lambda: answers(port), 20), site.log()
        assert wait_for(lambda: site.lease_pid() is not None, 5), site.log()
        assert site.lease_pid() != watcher.pid  # the watching parent runs no scheduler

        assert site.stop(watcher, signal.SIGINT) == 0, site.log()
    assert site.lease_pid() is None


def test_sigterm_stops_flask_scheduler_run_and_frees_the_lease(site: Site):
    with site.process("scheduler", "run") as scheduler:
        assert wait_for(lambda: site.lease_pid() == scheduler.pid, 20), site.log()

        assert site.stop(scheduler, signal.SIGTERM) == 0, site.log()
    assert site.lease_pid() is None
