"""`make serve`: gunicorn workers plus one `flask scheduler run`, started and stopped together.

    python -m webapp.system.serve [--host 127.0.0.1] [--port 5000] [--workers N]

The web workers never run jobs: HERALD_SCHEDULER is forced to false for gunicorn whatever the
environment says, and the scheduler runs as its own process (it frees the database lease when
stopped). Both share a fresh PROMETHEUS_MULTIPROC_DIR, so /metrics adds up every process's
counts; it is deleted on exit, since counts left from an earlier run would be added again.

Ctrl+C or SIGTERM stops both children (each once, so the scheduler's clean shutdown is never
interrupted); if either child dies on its own, the other is stopped too and the exit code is 1,
so systemd or docker restarts the pair. A SIGKILL of this supervisor alone would leave the
children running (they are in their own process groups); systemd and docker kill the whole
service or container, which covers them.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from webapp.system.metrics import MULTIPROCESS_ENV

MAX_DEFAULT_WORKERS = 8
STOP_TIMEOUT_SECONDS = 40  # gunicorn's graceful_timeout (30) plus a margin
WAKE_ON = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


def default_workers() -> int:
    """gunicorn's advice, 2 * cores + 1, capped: each worker holds a database pool."""
    return min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m webapp.system.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=default_workers())
    return parser.parse_args(argv)


def children(args: argparse.Namespace) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each child's command and the environment it gets on top of ours."""
    python = sys.executable
    return {
        "scheduler": ([python, "-m", "flask", "--app", "app", "scheduler", "run"], {}),
        "web": ([python, "-m", "gunicorn", "--config", "python:webapp.system.gunicorn_conf",
                 "--bind", f"{args.host}:{args.port}", "--workers", str(args.workers),
                 "app:app"], {"HERALD_SCHEDULER": "false"}),
    }


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Each child in its own process group: a terminal's Ctrl+C reaches only this supervisor,
    which then stops each child exactly once."""
    return subprocess.Popen(command, env=env, process_group=0)


def wait_for_stop(running: dict[str, subprocess.Popen]) -> int:
    """Block until a stop signal (exit code 0) or a child's death (1). The signals are blocked
    and taken with sigwait, so one arriving at any moment is never lost."""
    signal.pthread_sigmask(signal.SIG_BLOCK, WAKE_ON)
    while True:
        for name, child in running.items():
            if child.poll() is not None:
                print(f"herald serve: {name} exited with {child.returncode}", file=sys.stderr)
                return 1
        if signal.sigwait(WAKE_ON) != signal.SIGCHLD:
            return 0


def stop(running: dict[str, subprocess.Popen]) -> None:
    for child in running.values():
        if child.poll() is None:
            child.terminate()
    for child in running.values():
        try:
            child.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="herald-metrics-") as metrics_dir:
        env = {**os.environ, MULTIPROCESS_ENV: metrics_dir}
        running = {name: start(command, {**env, **extra_env})
                   for name, (command, extra_env) in children(args).items()}
        try:
            return wait_for_stop(running)
        finally:
            stop(running)


if __name__ == "__main__":
    sys.exit(main())
