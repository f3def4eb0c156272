"""`flask demo`: demo users and realistic events in the database, repeatable with --seed."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import login
from webapp.core.extensions import db
from webapp.demo.people import BILLING_SERVICE, GROUPS, PEOPLE
from webapp.events.sanitize import cleanse
from webapp.models import Event, Group, User
from webapp.system.system_settings import get_settings

UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
DEMO = ["demo", "--until", "2026-01-01T00:00:00"]


def demo_events() -> list[Event]:
    """The generated events (creating the demo users records audit events of its own, now)."""
    db.session.expire_all()
    query = sa.select(Event).where(Event.created <= UNTIL)
    return list(db.session.scalars(query.order_by(Event.created, Event.action)))


def snapshot() -> list[tuple]:
    return [(e.action, e.app, e.user, e.context, e.client_ip, e.created, e.expires, e.username,
             e.user_pk) for e in demo_events()]


def test_demo_adds_the_events_asked_for_and_reports_the_rate(app, runner):
    result = runner.invoke(args=[*DEMO, "--events", "500", "--days", "3", "--seed", "5"])

    assert result.exit_code == 0, result.output
    assert "Added 500 events" in result.output
    assert "events/s" in result.output and "seed 5" in result.output
    with app.app_context():
        found = demo_events()
        assert len(found) == 500
        assert min(e.created for e in found) >= UNTIL - timedelta(days=3)


def test_demo_creates_the_demo_people_once_with_passwords_nobody_can_use(app, runner, client):
    first = runner.invoke(args=[*DEMO, "--events", "50", "--seed", "1"])
    second = runner.invoke(args=[*DEMO, "--events", "50", "--seed", "2"])

    assert f"{len(PEOPLE) + 1} new demo users" in first.output
    assert "0 new demo users" in second.output
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        assert len(users) == len(PEOPLE) + 1
        assert users[BILLING_SERVICE.username].type == "service_account"
        hashes = {u.password_hash for u in users.values()}
        assert len(hashes) == len(users)
        maria = users["maria.garcia"]
        assert maria.name == "María García" and maria.email == "maria.garcia@example.com"
        for guess in ("", "maria.garcia", maria.password_hash, maria.password_hash[1:]):
            assert not maria.check_password(guess)
        assert sorted(db.session.scalars(sa.select(Group.name))) == sorted(GROUPS)
    assert login(client, "maria.garcia", maria.password_hash[1:]).status_code == 200


def test_existing_users_are_used_as_they_are(app, runner):
    from tests.factories import make_user

    with app.app_context():
        make_user("James.Wilson", email="james@elsewhere.example.com", password="kept-pass-123")
    result = runner.invoke(args=[*DEMO, "--events", "300", "--seed", "3"])

    assert f"{len(PEOPLE)} new demo users" in result.output
    with app.app_context():
        james = db.session.scalar(sa.select(User).where(User.username == "James.Wilson"))
        assert james.check_password("kept-pass-123")
        mine = [e for e in demo_events() if e.user_pk == james.id]
        assert mine and all(e.user["email"] == "james@elsewhere.example.com" for e in mine)


def test_the_same_seed_writes_the_same_events_again_and_another_seed_does_not(app, runner):
    runner.invoke(args=[*DEMO, "--events", "300", "--seed", "9"])
    with app.app_context():
        first = snapshot()
        db.session.execute(sa.delete(Event))
        db.session.commit()
    runner.invoke(args=[*DEMO, "--events", "300", "--seed", "9"])
    with app.app_context():
        again = snapshot()
        db.session.execute(sa.delete(Event))
        db.session.commit()
    runner.invoke(args=[*DEMO, "--events", "300", "--seed", "10"])
    with app.app_context():
        other = snapshot()

    assert len(first) == 300
    assert again == first
    assert other != first


def test_events_look_like_recorded_ones_and_expire_by_the_retention_setting(app, runner):
    with app.app_context():
        get_settings().event_retention = "days=90"
        db.session.commit()
    runner.invoke(args=[*DEMO, "--events", "400", "--seed", "4"])

    with app.app_context():
        people = {u.id: u for u in db.session.scalars(sa.select(User))}
        for event in demo_events():
            assert event.expires - event.created == timedelta(days=90)
            assert event.context == cleanse(event.context)
            assert "http_request" in event.context
            if ipaddress.ip_address(event.client_ip).is_global:
                assert set(event.context["geo"]) == {"continent", "country", "lat", "long",
                                                     "city"}
                assert set(event.context["asn"]) == {"asn", "as_org", "network"}
            if event.user_pk is not None:
                user = people[event.user_pk]
                assert event.user == {"pk": user.id, "username": user.username,
                                      "email": user.email}


def test_by_default_the_window_ends_at_the_start_of_the_current_hour(app, runner):
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    result = runner.invoke(args=["demo", "--events", "200", "--days", "1", "--seed", "1"])
    after = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    assert result.exit_code == 0, result.output
    with app.app_context():
        generated = [e for e in db.session.scalars(sa.select(Event))
                     if e.context.get("source") != "cli:demo"]  # not the users' creation
        assert len(generated) == 200
        assert all(before - timedelta(days=1) <= e.created <= after for e in generated)


def test_a_retention_shorter_than_the_window_is_pointed_out(app, runner):
    with app.app_context():
        get_settings().event_retention = "days=7"
        db.session.commit()
    result = runner.invoke(args=[*DEMO, "--events", "10", "--days", "30", "--seed", "1"])

    assert result.exit_code == 0, result.output
    assert "retention is shorter than 30 days" in result.output


@pytest.mark.parametrize(("args", "complaint"), [
    (["--events", "-5"], "--events"),
    (["--events", "0"], "--events"),
    (["--events", "lots"], "--events"),
    (["--days", "0"], "--days"),
    (["--days", "99999"], "--days"),
    (["--seed", "abc"], "--seed"),
    (["--until", "yesterday"], "--until"),
    (["--until", "2999-01-01"], "must not be in the future"),
])
def test_bad_arguments_get_a_clear_message_and_change_nothing(app, runner, args, complaint):
    result = runner.invoke(args=["demo", *args])

    assert result.exit_code == 2
    assert complaint in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
