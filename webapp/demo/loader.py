"""Loading the demo: the demo users and groups (created once), then the events in bulk.

Events go in as Core bulk inserts (COPY on PostgreSQL), CHUNK rows per transaction, never
through one ORM object or one record() call per event: that is what makes a million events a
matter of a minute. On PostgreSQL WRITERS connections write chunks side by side.
"""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from time import perf_counter

import sqlalchemy as sa
from flask import current_app

from webapp.core.bulk_insert import insert_rows
from webapp.core.extensions import db
from webapp.demo.generator import generate
from webapp.demo.people import BILLING_SERVICE, GROUPS, PEOPLE, Person
from webapp.demo.scenarios import Row
from webapp.demo.world import DemoDirectory, DemoGroup, DemoPlan, DemoUser
from webapp.directory.accounts import create_user
from webapp.events.record import current_retention
from webapp.events.request_context import user_reference
from webapp.events.sanitize import model_reference
from webapp.events.search import bulk_indexing
from webapp.models import Event, Group, User

CHUNK = 20_000
WRITERS = 2
SQLITE_CACHE_KIB = -256 * 1024  # negative: KiB rather than pages, as SQLite reads it


@dataclass(frozen=True)
class LoadResult:
    events: int
    new_users: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def load_demo(count: int, *, days: int, until: datetime, seed: int,
              progress: Callable[[int], None] = lambda done: None) -> LoadResult:
    """Make sure the demo directory exists, then insert `count` generated events."""
    started = perf_counter()
    directory, new_users = ensure_directory()
    db.session.commit()
    plan = DemoPlan(count=count, days=days, until=until, seed=seed,
                    retention=current_retention())
    with _large_sqlite_cache(), _writer(progress) as write:
        for chunk in _chunks(generate(plan, directory), CHUNK):
            for row in chunk:
                row["event_uuid"] = uuid.uuid4()
            write(chunk)
    return LoadResult(count, new_users, perf_counter() - started)


def _insert_chunk(chunk: list[Row]) -> None:
    """One chunk in one transaction of the context's session, as Core rows (no ORM objects)."""
    with bulk_indexing(db.session):
        insert_rows(db.session, Event.__table__, chunk)
    db.session.commit()


@contextmanager
def _writer(progress: Callable[[int], None]) -> Iterator[Callable[[list[Row]], None]]:
    """Something to hand chunks to. SQLite has one writer, so chunks go in one by one. On
    PostgreSQL most of a load is the server's work per row (the search vector, a dozen
    indexes, the hour counts), and one connection keeps one core busy: WRITERS connections
    write chunks side by side while the next chunk is generated."""
    if db.engine.dialect.name != "postgresql":
        def write_here(chunk: list[Row]) -> None:
            _insert_chunk(chunk)
            progress(len(chunk))
        yield write_here
        return
    app = current_app._get_current_object()
    pending: deque[Future[int]] = deque()

    def written(chunk: list[Row]) -> int:
        with app.app_context():
            _insert_chunk(chunk)
            return len(chunk)

    with ThreadPoolExecutor(WRITERS, thread_name_prefix="demo-writer") as pool:
        def write_beside(chunk: list[Row]) -> None:
            if len(pending) == WRITERS:  # at most WRITERS chunks in memory besides this one
                progress(pending.popleft().result())
            pending.append(pool.submit(written, chunk))
        yield write_beside  # on an error the pool still waits for the chunks being written
        for future in pending:
            progress(future.result())


@contextmanager
def _large_sqlite_cache() -> Iterator[None]:
    """Random event ids and client IPs land all over their indexes; with SQLite's default 2 MB
    page cache every chunk re-reads them, so the load gets a bigger cache while it runs."""
    if db.engine.dialect.name != "sqlite":
        yield
        return
    before = db.session.scalar(sa.text("PRAGMA cache_size"))
    db.session.execute(sa.text(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}"))
    try:
        yield
    finally:
        db.session.execute(sa.text(f"PRAGMA cache_size = {int(before)}"))


def ensure_directory() -> tuple[DemoDirectory, int]:
    """The demo people, the billing service account and the groups; missing ones are created,
    existing ones (found by name) are used as they are. Returns how many users were new."""
    users, new = [], 0
    for person in (*PEOPLE, BILLING_SERVICE):
        user = db.session.scalar(sa.select(User).where(
            sa.func.lower(User.username) == person.username.lower()))
        if user is None:
            user, new = _create(person), new + 1
        users.append(DemoUser(person, user.id, user_reference(user), model_reference(user)))
    groups = tuple(_group(name) for name in GROUPS)
    return DemoDirectory(tuple(users[:-1]), users[-1], groups), new


def unusable_password() -> str:
    """A random value no hash method accepts (Django's convention): nobody can sign in as a
    demo user, and no two demo users share a password hash."""
    return "!" + secrets.token_urlsafe(32)


def _create(person: Person) -> User:
    user = create_user(person.username, email=person.email, name=person.name)
    user.type = person.type
    user.password_hash = unusable_password()
    return user


def _group(name: str) -> DemoGroup:
    group = db.session.scalar(sa.select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name)
        db.session.add(group)
        db.session.flush()
    return DemoGroup(group.pk, model_reference(group))


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
