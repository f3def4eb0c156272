"""A PostgreSQL server of our own, in a temporary folder, that a fault test may stop and start.

The shared cluster serves everyone's tests at once; restarting it would cut their connections.
This one is made with initdb on a free port of 127.0.0.1 (about a second), trusts local
connections, and is deleted afterwards. PostgreSQL refuses to run as root, so as root its
programs run as the `postgres` OS user (runuser); as anyone else they run as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

#: Where Debian puts each major version's programs; the newest one is used.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
OS_USER = "postgres"
START_TIMEOUT_SECONDS = 30


class Unavailable(RuntimeError):
    """No PostgreSQL server can be made here; the message says why (a test skips with it)."""


class PrivatePostgres:
    """One server: `stop()` and `start()` it as a crash or an administrator would."""

    def __init__(self, binaries: Path, folder: Path, port: int) -> None:
        self.binaries, self.folder, self.port = binaries, folder, port
        self.data, self.log = folder / "data", folder / "server.log"

    def uri(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database on this server; its URI."""
        engine = sa.create_engine(self.uri(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.uri(name)

    def start(self) -> None:
        self._pg_ctl("start", "-l", str(self.log), "-t", str(START_TIMEOUT_SECONDS), "-o",
                     f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1")

    def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        """`fast` is what `pg_ctl restart` and the service scripts do (clients are cut off,
        committed work is kept); `immediate` is a crash, recovered from the WAL on start."""
        self._pg_ctl("stop", "-m", mode, check=check)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        _run(self.binaries / "pg_ctl", "-D", str(self.data), "-w", *args, check=check)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running server on a free port, stopped and deleted on exit; Unavailable if this
    machine has no PostgreSQL programs or they cannot run."""
    binaries = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="herald-pg-"))
    try:
        _give_to_server_user(folder)
        server = PrivatePostgres(binaries, folder, _free_port())
        try:
            _run(binaries / "initdb", "-D", str(server.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync")
            server.start()
        except subprocess.CalledProcessError as error:
            raise Unavailable(f"PostgreSQL could not start here: {error.stderr.strip()}") from None
        try:
            yield server
        finally:
            server.stop("immediate", check=False)  # a failed test may have left it stopped
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _binaries() -> Path:
    versions = [path for path in DEBIAN_BINARIES.glob("*/bin")
                if path.parent.name.isdigit() and (path / "initdb").exists()]
    if versions:
        return max(versions, key=lambda path: int(path.parent.name))
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    check=False).stdout.strip())
        if (found / "initdb").exists():
            return found
    raise Unavailable("no PostgreSQL server programs (initdb, pg_ctl) on this machine")


def _as_server_user() -> list[str]:
    """The command prefix that runs a PostgreSQL program as a user it accepts."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser to switch to the postgres user")
    return ["runuser", "-u", OS_USER, "--"]


def _give_to_server_user(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(OS_USER)
    except KeyError:
        raise Unavailable(f"running as root and there is no {OS_USER!r} OS user") from None
    os.chown(folder, user.pw_uid, user.pw_gid)


def _run(program: Path, *args: str, check: bool = True) -> None:
    subprocess.run([*_as_server_user(), str(program), *args], capture_output=True, text=True,
                   check=check, timeout=START_TIMEOUT_SECONDS * 2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
