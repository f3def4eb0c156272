"""Herald's own processes, started as production starts them, for tests that break things.

`serving()` runs `python -m webapp.system.serve` (gunicorn workers plus the scheduler process,
what `make serve` runs); `scheduler()` runs `flask scheduler run`. Each gets a clean
environment (no HERALD_* or FLASK_* setting leaks in from the shell or the suite), writes to a
log file, and is killed with everything it started if the caller leaves it running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
SECRET_KEY = "herald-throwaway-secret-key-0123456789"  # noqa: S105 (throwaway databases)


def herald_env(database_uri: str, **settings: object) -> dict[str, str]:
    """The environment of a Herald process on `database_uri`; `settings` by config name
    (NOTIFICATION_CLAIM_SECONDS=3 becomes HERALD_NOTIFICATION_CLAIM_SECONDS=3)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("HERALD_", "FLASK_", "WERKZEUG_"))}
    env.update(HERALD_SECRET_KEY=SECRET_KEY, HERALD_SQLALCHEMY_DATABASE_URI=database_uri)
    env.update({f"HERALD_{name}": str(value) for name, value in settings.items()})
    return env


@contextmanager
def scheduler(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with _started([FLASK, "--app", "app", "scheduler", "run"], env, log) as process:
        yield process


@contextmanager
def serving(env: dict[str, str], log: Path, port: int,
            workers: int = 2) -> Iterator[subprocess.Popen]:
    """The supervisor of `make serve`; serving on http://127.0.0.1:<port> once `ready()`."""
    command = [sys.executable, "-m", "webapp.system.serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    with _started(command, env, log) as process:
        yield process


@contextmanager
def _started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("a") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, as the OOM killer or a power cut would: the process, and everything it
    started (serve puts each child in a process group of its own)."""
    for group in (process.pid, *children_of(process.pid)):
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM, as systemd or docker stop does; the exit code."""
    os.kill(process.pid, signal.SIGTERM)
    return process.wait(timeout=timeout)


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def process_tree(pid: int) -> set[int]:
    """`pid` and all its descendants: the same set later means nothing was restarted."""
    return {pid}.union(*(process_tree(child) for child in children_of(pid)))


def ready(base_url: str) -> bool:
    """Herald's readiness check: it serves and its database answers."""
    try:
        with urllib.request.urlopen(f"{base_url}/-/health/ready/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
