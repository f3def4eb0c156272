"""record_many(): the same events as record() item by item, in two INSERTs instead of 2n."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.factories import make_user
from tests.mmdb import GOOGLE, LONDON, write_asn_db, write_city_db
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.record import record_many
from webapp.events.search import search_condition
from webapp.models import Event, EventOutbox, Settings

PUBLIC_IP = "81.2.69.160"
#: Differs between the two runs by design (or is the run's marker).
UNCOMPARED = {"event_uuid", "created", "expires", "context"}
UNCOMPARED_LOG = {"pk", "created", "expires", "context"}


@pytest.fixture
def geo_app(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    """Enrichment on, so the equivalence covers `context.geo`/`asn` and the place columns."""
    networks = ("81.2.69.0/24", "10.0.0.0/8")
    city = write_city_db(tmp_path / "city.mmdb", dict.fromkeys(networks, LONDON))
    asn = write_asn_db(tmp_path / "asn.mmdb", dict.fromkeys(networks, GOOGLE))
    geo = create_app({**config_for_tests(database_uri), "GEOIP_CITY_DB": str(city),
                      "GEOIP_ASN_DB": str(asn)})
    yield geo
    with geo.app_context():
        db.session.remove()
        db.engine.dispose()


def _items(run: str, alice) -> list[dict]:
    """One of each way an item can differ: users, addresses, times, secrets, odd values."""
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    return [
        {"action": "login", "app": "idp", "user": {"pk": 7, "username": "bob", "email": ""},
         "client_ip": PUBLIC_IP, "created": when, "context": {"run": run}},
        {"action": "deployed", "user": alice, "client_ip": "10.1.2.3",
         "context": {"run": run, "api_key": "k-1", "nested": {"password": "p"}, "n": [1, 2]}},
        {"action": "login_failed", "client_ip": "not-an-ip",
         "user": {"username": "AnonymousUser", "email": "", "is_anonymous": True},
         "context": {"run": run, "username": "mallory", "at": when, "id": uuid.UUID(int=5)}},
        {"action": "model_created", "context": {"run": run, "model": {
            "app": "herald", "model_name": "group", "pk": 3, "name": "ops"}}},
        {"action": "custom_thing", "app": "ci", "client_ip": None, "context": {"run": run}},
    ]


def _rows(run: str) -> list[dict]:
    """This run's rows, in action order (every item's action is distinct)."""
    rows = db.session.execute(sa.select(Event.__table__)).mappings()
    return sorted((dict(row) for row in rows if row["context"].get("run") == run),
                  key=lambda row: row["action"])


def _without(shape: dict, keys: set[str]) -> dict:
    return {key: value for key, value in shape.items() if key not in keys}


def _logged(caplog: pytest.LogCaptureFixture, run: str) -> list[dict]:
    lines = [json.loads(record.getMessage()) for record in caplog.records
             if record.name == "herald.events"]
    return sorted((line for line in lines if line["context"].get("run") == run),
                  key=lambda line: line["action"])


def _comparable(row: dict) -> dict:
    context = _without(row["context"], {"run"})
    return {**_without(row, UNCOMPARED), "context": context,
            "lifetime": row["expires"] - row["created"]}


def _comparable_log(line: dict) -> dict:
    return {**_without(line, UNCOMPARED_LOG), "context": _without(line["context"], {"run"})}


def test_the_same_items_make_the_same_events_rows_and_log_lines(geo_app, caplog):
    caplog.set_level(logging.INFO, logger="herald.events")
    with geo_app.test_request_context("/api/v3/events/events/bulk/", method="POST"):
        db.session.add(Settings(id=1, event_retention="hours=5"))
        alice = make_user("alice")
        for item in _items("one", alice):
            record(**item)
        inserted = record_many(_items("many", alice))
        db.session.commit()

        one, many = _rows("one"), _rows("many")
        assert [_comparable(row) for row in many] == [_comparable(row) for row in one]
        assert sorted(inserted, key=lambda row: row["action"]) == many
        login = next(row for row in many if row["action"] == "login")
        assert login["created"] == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
        assert login["country"] == "GB" and login["context"]["geo"]["city"] == "London"
        assert login["expires"] - login["created"] == timedelta(hours=5)
        logged_one, logged_many = _logged(caplog, "one"), _logged(caplog, "many")
        assert len(logged_many) == 5
        assert [_comparable_log(line) for line in logged_many] == \
            [_comparable_log(line) for line in logged_one]
        assert [line["pk"] for line in logged_many] == [str(row["event_uuid"]) for row in many]


def test_each_event_gets_exactly_one_outbox_row_and_is_searchable(ctx):
    rows = record_many([{"action": "login", "app": "tests", "context": {"word": "zebrafish"}},
                          {"action": "logout", "app": "tests", "context": {"word": "zebrafish"}}])
    db.session.commit()

    queued = db.session.scalars(sa.select(EventOutbox.event_id)).all()
    assert sorted(queued) == sorted(row["event_uuid"] for row in rows)
    found = db.session.scalars(sa.select(Event.event_uuid).where(search_condition("zebrafish")))
    assert sorted(found) == sorted(row["event_uuid"] for row in rows)


def test_a_rollback_leaves_nothing_and_logs_nothing(ctx, caplog):
    caplog.set_level(logging.INFO, logger="herald.events")
    record_many([{"action": "login", "app": "tests"}])
    db.session.rollback()
    db.session.commit()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventOutbox)) == 0
    assert not [r for r in caplog.records if r.name == "herald.events"]


def test_no_items_is_no_statement(ctx):
    assert record_many([]) == []
