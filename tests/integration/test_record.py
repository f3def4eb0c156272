"""record(): the one way events enter Herald."""

from __future__ import annotations

import copy
import sqlite3
from datetime import timedelta

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_event, make_user
from tests.helpers import events, login, post_form
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.sanitize import MASK
from webapp.events.serialize import event_to_dict
from webapp.models import Settings


def test_outside_a_request_an_event_has_the_system_actor_and_no_ip(ctx):
    event = record("update_available", {"version": "1.2"})
    db.session.commit()

    assert event.user == {"username": "system", "email": "", "is_system": True}
    assert event.client_ip is None
    assert event.app == __name__
    assert event.context == {"version": "1.2"}


def test_unknown_actions_are_stored_with_the_custom_prefix(ctx):
    assert record("deployed").action == "custom_deployed"


def test_the_callers_context_is_cleansed_but_never_mutated(ctx):
    context = {"api_key": "k-123", "nested": {"password": "p"}, "keep": [1, 2]}
    before = copy.deepcopy(context)

    event = record("custom_thing", context)

    assert context == before
    assert event.context == {"api_key": MASK, "nested": {"password": MASK}, "keep": [1, 2]}


def test_expiry_follows_the_retention_setting(ctx):
    db.session.add(Settings(id=1, event_retention="hours=2"))
    db.session.commit()

    event = record("login")

    assert event.expires - event.created == timedelta(hours=2)


def test_a_damaged_retention_setting_falls_back_to_the_default(ctx):
    db.session.add(Settings(id=1, event_retention="nonsense"))
    db.session.commit()

    event = record("login")

    assert event.expires - event.created == timedelta(days=365)


def test_the_json_shape_is_authentik_compatible_and_stable(ctx):
    event = record("login", {"auth_method": "password"}, created=utcnow())
    db.session.commit()
    first = event_to_dict(event)
    db.session.expire_all()

    again = event_to_dict(db.session.get(type(event), event.event_uuid))

    assert first == again
    assert set(first) == {"pk", "user", "action", "app", "context", "client_ip", "created",
                          "expires", "brand"}
    assert first["created"].endswith("Z") and first["expires"].endswith("Z")
    assert set(first["brand"]) == {"pk", "app", "name", "model_name"}


def test_in_a_request_the_event_has_the_user_ip_and_http_request(app, client, admin):
    response = post_form(client, "/auth/login?page=2&token=abc",
                         {"username": "admin", "password": ADMIN_PASSWORD},
                         headers={"User-Agent": "spec-agent/1.0"})

    with app.app_context():
        (event,) = events("login")
        assert event.user == {"pk": admin, "username": "admin", "email": "admin@example.com"}
        assert event.client_ip == "127.0.0.1"
        assert event.context["http_request"] == {
            "path": "/auth/login", "method": "POST", "args": {"page": "2", "token": MASK},
            "user_agent": "spec-agent/1.0",
            "request_id": response.headers["X-Request-ID"]}


def test_forwarded_for_is_ignored_without_trusted_proxies(app, client, admin):
    login(client, "admin", ADMIN_PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"})
    with app.app_context():
        assert events("login")[0].client_ip == "127.0.0.1"


def test_forwarded_for_is_trusted_through_the_configured_number_of_hops(database_uri):
    from webapp import create_app
    from webapp.core.config import config_for_tests

    app = create_app({**config_for_tests(database_uri), "TRUSTED_PROXIES": 1})
    with app.app_context():
        db.drop_all()
        db.create_all()
        make_user("admin", password=ADMIN_PASSWORD, superuser=True)
    client = app.test_client()

    login(client, "admin", ADMIN_PASSWORD,
          headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})

    with app.app_context():
        assert events("login")[0].client_ip == "203.0.113.7"
        db.session.remove()
        db.engine.dispose()


def test_the_affected_object_place_and_request_are_copied_into_indexed_columns(app, admin_client):
    """Filters and related events read these columns instead of scanning JSON."""
    response = post_form(admin_client, "/directory/users/new",
                         {"username": "carol", "email": "carol@example.com",
                          "password": "carol-password-123", "password2": "carol-password-123"})
    assert response.status_code in (200, 302)
    with app.app_context():
        created = events("model_created")[-1]
        assert (created.model_app, created.model_name, created.model_pk) == (
            created.context["model"]["app"], "user", str(created.context["model"]["pk"]))
        assert created.request_id == created.context["http_request"]["request_id"]
        placed = make_event("login", geo={"country": "NZ", "city": "Auckland"})
        assert (placed.country, placed.city, placed.model_pk) == ("NZ", "Auckland", None)


def test_the_email_asn_and_message_are_copied_whole_for_the_export(ctx):
    """The CSV export reads these copies; a non-string value keeps its JSON spelling."""
    event = record("login_failed", {"message": "x" * 5_000, "asn": {"asn": 3320}},
                   user={"pk": 9, "username": "ann", "email": "ann@example.com"})
    flagged = record("custom_flag", {"message": {"level": 2}}, user={"username": "bob"})
    db.session.commit()

    assert (event.email, event.asn, event.message) == ("ann@example.com", "3320", "x" * 5_000)
    assert (flagged.email, flagged.asn, flagged.message) == (None, None, '{"level":2}')


def test_on_sqlite_a_reader_part_way_through_its_rows_never_blocks_a_writer(ctx):
    """Write-ahead logging: an export page or a Logs walk being read while record() or the
    scheduler commits. In the rollback journal the commit waits for the reader and then fails
    with 'database is locked'."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's journal")
    for n in range(3):
        record("login", {"n": n}, app="tests")
    db.session.commit()
    with db.engine.connect() as reader:
        rows = reader.exec_driver_sql("SELECT event_uuid FROM events")
        rows.fetchone()  # part-way through: the reader's snapshot is open
        writer = sqlite3.connect(db.engine.url.database, timeout=0.2)
        writer.execute("UPDATE events SET app = app WHERE rowid = (SELECT min(rowid) FROM events)")
        writer.commit()
        writer.close()
        assert reader.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
