"""Exact event counts per hour on PostgreSQL: what lets an API page deep in ten million events
be found by adding up hours instead of skipping millions of index entries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import FIRST_EVENTS, insert_first_schema_event, make_event
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.positions import SHARDS, fold_past_hours, keep_hour_counts
from webapp.events.record import record_many
from webapp.events.rollups import HOUR, hour_floor
from webapp.models import Event, EventHourCount


def _skip_unless_postgresql(uri: str) -> None:
    if not uri.startswith("postgresql"):
        pytest.skip("the hour counts are kept by PostgreSQL's triggers; SQLite keeps none")


@pytest.fixture
def postgresql(database_uri: str, ctx) -> None:
    _skip_unless_postgresql(database_uri)


def _kept() -> dict[datetime, int]:
    """The hour counts, their parts added up; hours that add up to nothing left out."""
    rows = db.session.execute(sa.select(EventHourCount.hour, sa.func.sum(EventHourCount.events))
                              .group_by(EventHourCount.hour))
    return {hour: int(total) for hour, total in rows if total}


def _actual() -> dict[datetime, int]:
    hour = sa.func.date_trunc("hour", Event.created, "UTC")
    return dict(db.session.execute(sa.select(hour, sa.func.count()).group_by(hour)).all())


def _half_past_this_hour() -> datetime:
    return hour_floor(utcnow()) + timedelta(minutes=30)


def test_the_counts_follow_every_way_events_come_and_go(postgresql):
    now = _half_past_this_hour()
    make_event("login", created=now)
    make_event("login", created=now - 3 * HOUR)
    record_many([{"action": "logout", "created": now - 5 * HOUR - timedelta(minutes=i)}
                 for i in range(40)])  # one COPY
    db.session.commit()
    assert _kept() == _actual() and sum(_kept().values()) == 42

    moved = db.session.scalars(sa.select(Event).where(Event.action == "logout")).first()
    moved.created = now - 30 * HOUR
    db.session.execute(sa.text("UPDATE events SET expires = expires + interval '1 hour'"))
    db.session.commit()
    assert _kept() == _actual() and _kept()[hour_floor(now - 30 * HOUR)] == 1

    db.session.execute(sa.delete(Event).where(Event.created < now - 4 * HOUR))
    db.session.commit()
    assert _kept() == _actual() and sum(_kept().values()) == 2

    record("login", {}, app="tests", created=now - 7 * HOUR)
    db.session.flush()
    db.session.rollback()  # never committed: never counted
    assert _kept() == _actual() and sum(_kept().values()) == 2

    db.session.execute(sa.text("TRUNCATE events CASCADE"))
    db.session.commit()
    assert _kept() == {} == _actual()


def _two_connections_with_different_parts() -> list[sa.Connection]:
    """Connections whose backends add to different parts (the part is the pid's residue)."""
    opened: list[sa.Connection] = []
    while True:
        opened.append(db.engine.connect())
        pids = [connection.scalar(sa.text("SELECT pg_backend_pid()")) for connection in opened]
        for index, pid in enumerate(pids[:-1]):
            if pid % SHARDS != pids[-1] % SHARDS:
                chosen = [opened[index], opened[-1]]
                for connection in opened:
                    if connection not in chosen:
                        connection.close()
                return chosen


def _insert(connection: sa.Connection, created: datetime, action: str = "login") -> None:
    connection.execute(FIRST_EVENTS.insert().values(
        event_uuid=uuid.uuid4(), action=action, app="tests", user={}, context={}, brand={},
        created=created, expires=created + 100 * HOUR))
    connection.commit()


def test_each_connection_adds_to_its_own_part_and_folding_merges_past_hours(postgresql):
    """Writers in the same hour must not queue on one row; the job folds the parts later."""
    now = _half_past_this_hour()
    first, second = _two_connections_with_different_parts()
    for connection in (first, second):
        for hours_ago in (0, 1, 5, 6):
            _insert(connection, now - hours_ago * HOUR)
    _insert(first, now - 9 * HOUR, action="logout")
    first.execute(sa.delete(Event).where(Event.action == "logout"))
    first.commit()
    first.close()
    second.close()
    parts_before = db.session.scalar(sa.select(sa.func.count()).select_from(EventHourCount))
    totals_before = _kept()

    folded = fold_past_hours(now)

    parts = dict(db.session.execute(sa.select(EventHourCount.hour, sa.func.count())
                                    .group_by(EventHourCount.hour)).all())
    assert _kept() == totals_before == _actual()
    assert parts == {hour_floor(now - 5 * HOUR): 1, hour_floor(now - 6 * HOUR): 1,
                     hour_floor(now): 2, hour_floor(now - HOUR): 2}  # the last two: as were
    assert folded == parts_before - sum(parts.values()) == 3  # 2 parts merged, 1 empty hour gone


def test_the_migration_counts_the_events_already_there(empty_database: str):
    _skip_unless_postgresql(empty_database)
    app = create_app(config_for_tests(empty_database))
    cli = app.test_cli_runner()
    assert cli.invoke(args=["db", "upgrade", "0012_api_page_cursors"]).exit_code == 0
    with app.app_context():
        for _ in range(3):
            insert_first_schema_event("login", {})

        result = cli.invoke(args=["db", "upgrade", "0013_event_hour_counts"])
        assert result.exit_code == 0, result.output
        insert_first_schema_event("logout", {})
        assert _kept() == _actual() and sum(_kept().values()) == 4
        db.session.commit()  # end the read, so the downgrade's DDL does not wait for it

        result = cli.invoke(args=["db", "downgrade", "0012_api_page_cursors"])
        assert result.exit_code == 0, result.output
        assert "event_hour_counts" not in sa.inspect(db.engine).get_table_names()
        insert_first_schema_event("logout", {"message": "still recordable"})
        db.session.remove()
        db.engine.dispose()


def test_the_job_puts_right_counts_that_something_went_around(postgresql, caplog):
    """A data-only restore with triggers disabled, say: the hourly job finds the hours that
    disagree with their events and adds the difference, and says so in the log."""
    now = _half_past_this_hour()
    for hours_ago in (0, 0, 3, 40):
        make_event("login", created=now - hours_ago * HOUR)
    db.session.execute(sa.text("ALTER TABLE events DISABLE TRIGGER USER"))
    make_event("login", created=now - 3 * HOUR)
    db.session.execute(sa.delete(Event).where(Event.created < now - 39 * HOUR))
    db.session.execute(sa.text("ALTER TABLE events ENABLE TRIGGER USER"))
    db.session.add(EventHourCount(hour=hour_floor(now - 7 * HOUR), shard=3, events=5))
    db.session.commit()
    assert _kept() != _actual()

    result = keep_hour_counts()

    assert _kept() == _actual() == {hour_floor(now): 2, hour_floor(now - 3 * HOUR): 2}
    assert result.endswith("corrected 3 hours.")
    assert "disagreed with their events" in caplog.text
    assert keep_hour_counts().endswith("corrected 0 hours.")
