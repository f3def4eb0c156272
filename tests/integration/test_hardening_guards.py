"""Hardening of issue #11: the last-admin guard on every path, the sign-in throttle per
account, the scheduler lease on the database's clock, GeoIP reloads that never block lookups.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.conftest import USER_PASSWORD
from tests.factories import make_token, make_user
from tests.helpers import events, login, post_form
from tests.integration.directory_helpers import stored
from tests.mmdb import City, ManualClock, write_city_db
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.accounts import AccountError, delete_user, ensure_admins_group, update_user
from webapp.directory.admins import LAST_ADMIN
from webapp.directory.groups import create_group, remove_member
from webapp.events.geoip import GeoIP
from webapp.models import Group, User
from webapp.system import scheduler as scheduler_module
from webapp.system.scheduler import LEASE_TTL, Lease, current_lease, database_now

HTMX = {"HX-Request": "true"}


def admins() -> list[str]:
    """The usernames of the active administrators, as the database has them now."""
    db.session.expire_all()
    users = db.session.scalars(sa.select(User).where(User.is_active).order_by(User.username))
    return [user.username for user in users if user.is_admin]


# --- the last administrator ----------------------------------------------------------------

@pytest.fixture
def staff(app) -> dict[str, int]:
    """ann, the only administrator, who is one only as a member of ops, a group below the
    superuser group admins; and bob, a regular user."""
    with app.app_context():
        ann = make_user("ann", password=USER_PASSWORD)
        admins_group = ensure_admins_group()
        ops = create_group(name="ops", parent=admins_group, is_superuser=False)
        ops.users.append(ann)
        bob = make_user("bob")
        db.session.commit()
        assert admins() == ["ann"]
        return {"ann": ann.id, "bob": bob.id, "admins": admins_group.num_pk,
                "ops": ops.num_pk}


@pytest.fixture
def ann_client(client, staff):
    assert login(client, "ann", USER_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("change", [
    pytest.param(lambda ids: ("/directory/groups/{ops}/members/{ann}/remove", {}),
                 id="leaving-the-group"),
    pytest.param(lambda ids: ("/directory/groups/{ops}", {"name": "ops", "parent_id": "0"}),
                 id="moving-the-group-out-from-under-the-superuser-group"),
    pytest.param(lambda ids: ("/directory/groups/{admins}", {"name": "admins",
                                                             "parent_id": "0"}),
                 id="unticking-the-superuser-group"),
    pytest.param(lambda ids: ("/directory/groups/{admins}/delete", {}),
                 id="deleting-the-superuser-group"),
    pytest.param(lambda ids: ("/directory/groups/{ops}/delete", {}),
                 id="deleting-the-group"),
])
def test_no_directory_page_takes_away_the_last_administrator(app, ann_client, staff, change):
    url, form = change(staff)

    response = post_form(ann_client, url.format(**staff), form, headers=HTMX)

    assert LAST_ADMIN in response.text
    with app.app_context():
        assert admins() == ["ann"]
        assert events("model_updated") == events("model_deleted") == []


@pytest.mark.parametrize(("method", "group", "body"), [
    ("PATCH", "admins", {"is_superuser": False}),
    ("PATCH", "ops", {"users": []}),
    ("PATCH", "ops", {"parent": None}),
    ("DELETE", "admins", None),
    ("DELETE", "ops", None),
])
def test_no_api_call_takes_away_the_last_administrator(app, client, staff, method, group, body):
    with app.app_context():
        key = make_token(db.session.get_one(User, staff["ann"]))[1]
        pk = str(db.session.get_one(Group, staff[group]).group_uuid)

    response = client.open(f"/api/v3/core/groups/{pk}/", method=method, json=body,
                           headers=bearer(key))

    assert response.status_code == 400
    assert response.json == {"non_field_errors": [LAST_ADMIN]}
    with app.app_context():
        assert admins() == ["ann"]


def test_the_services_refuse_whoever_calls_them_and_leave_nothing_to_commit(app, staff):
    with app.app_context():
        ann, bob = db.session.get_one(User, staff["ann"]), db.session.get_one(User, staff["bob"])
        ann.is_superuser = True  # an administrator by her own flag instead of through ops
        remove_member(db.session.get_one(Group, staff["ops"]), ann)
        db.session.commit()

        for flags in ({"is_active": False, "is_superuser": True},
                      {"is_active": True, "is_superuser": False}):
            with pytest.raises(AccountError, match=LAST_ADMIN):  # a script acting as bob
                update_user(ann, actor=bob, name="", email=ann.email, attributes={}, **flags)
            db.session.commit()  # what a careless caller would do next: commits nothing
        with pytest.raises(AccountError, match=LAST_ADMIN):
            delete_user(ann, actor=bob)
        db.session.commit()

        assert admins() == ["ann"]


def test_changes_that_leave_another_administrator_go_through(app, ann_client, staff):
    with app.app_context():
        make_user("cy", superuser=True)

    response = post_form(ann_client, f"/directory/groups/{staff['admins']}/delete")

    assert response.status_code == 302
    with app.app_context():
        assert admins() == ["cy"]


def test_a_directory_that_had_no_administrator_is_not_held_to_the_guard(app):
    with app.app_context():
        dee = make_user("dee", is_active=False)  # a superuser group's only member, inactive
        group = create_group(name="flagged", parent=None, is_superuser=True)
        group.users.append(dee)
        db.session.commit()

        remove_member(group, dee)
        db.session.commit()

        assert stored(Group, name="flagged").users == []


def test_two_administrators_demoting_each_other_at_once_leave_one_of_them(app):
    with app.app_context():
        ann_id = make_user("ann", superuser=True).id
        ben_id = make_user("ben", superuser=True).id
    changed, commit = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def demote(actor_id: int, target_id: int, before_commit=lambda: None) -> None:
        with app.app_context():
            actor, target = db.session.get_one(User, actor_id), db.session.get_one(User, target_id)
            try:
                update_user(target, actor=actor, name=target.name, email=target.email,
                            is_active=True, is_superuser=False, attributes={})
            except AccountError as exc:
                outcome[actor.username] = str(exc)
                return
            before_commit()
            db.session.commit()
            outcome[actor.username] = "demoted"

    first = threading.Thread(target=demote, args=(ann_id, ben_id,
                                                  lambda: (changed.set(), commit.wait(10))))
    second = threading.Thread(target=demote, args=(ben_id, ann_id))
    first.start()
    assert changed.wait(10)  # ann has demoted ben, not yet committed
    second.start()
    second.join(timeout=1)  # ben's demotion of ann would be done by now if it did not wait
    commit.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert outcome == {"ann": "demoted", "ben": LAST_ADMIN}
    with app.app_context():
        assert admins() == ["ann"]


# --- the sign-in throttle ------------------------------------------------------------------

def test_alternating_username_and_email_gives_five_tries_in_all(app, client):
    with app.app_context():
        make_user("alice", password=USER_PASSWORD, email="alice@example.com")
        make_user("bob", password=USER_PASSWORD)
    for attempt in range(5):
        spelling = "alice" if attempt % 2 == 0 else "ALICE@example.com"
        assert login(client, spelling, "wrong-password-1").status_code == 200

    assert login(client, "alice@example.com", USER_PASSWORD).status_code == 429
    assert login(client, "Alice", USER_PASSWORD).status_code == 429
    assert login(client, "bob", USER_PASSWORD).status_code == 302  # another account is free


def test_a_name_that_resolves_to_no_account_is_counted_as_typed(app, client):
    for _ in range(5):
        login(client, "mallory", "wrong-password-1")

    assert login(client, "MALLORY", "wrong-password-1").status_code == 429
    assert login(client, "mallory@example.com", "wrong-password-1").status_code == 200


# --- the scheduler lease -------------------------------------------------------------------

def test_a_scheduler_whose_clock_runs_ahead_leaves_a_live_lease_alone(app, monkeypatch):
    with app.app_context():
        assert Lease("on-time").acquire()
        monkeypatch.setattr(scheduler_module, "utcnow", lambda: utcnow() + timedelta(hours=1))

        assert not Lease("an-hour-ahead").acquire()
        assert current_lease().holder == "on-time"


def test_a_scheduler_whose_clock_runs_behind_writes_the_expiry_by_the_database_clock(
        app, monkeypatch):
    monkeypatch.setattr(scheduler_module, "utcnow", lambda: utcnow() - timedelta(hours=1))
    with app.app_context():
        before = database_now()
        assert Lease("an-hour-behind").acquire()
        after = database_now()
        assert before + LEASE_TTL <= current_lease().expires_at <= after + LEASE_TTL
    monkeypatch.undo()

    with app.app_context():
        assert not Lease("on-time").acquire()


# --- GeoIP reloads -------------------------------------------------------------------------

def test_a_lookup_during_a_slow_reload_answers_at_once_from_the_old_file(tmp_path: Path):
    """The new file arrives through a named pipe, so reading it takes as long as the test
    says: a lookup meanwhile must answer from the old file, not wait for the new one."""
    path = write_city_db(tmp_path / "city.mmdb", {"81.2.69.0/24": City("London")})
    paris = write_city_db(tmp_path / "next.mmdb", {"81.2.69.0/24": City("Paris", country="FR")})
    clock = ManualClock()
    lookups = GeoIP({"GEOIP_CITY_DB": path}, clock)
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "London"
    path.unlink()
    os.mkfifo(path)
    clock.advance()

    reloading = threading.Thread(target=lookups.context_for, args=("81.2.69.160",))
    reloading.start()
    with open(path, "wb") as pipe:  # opens once the reload has opened the file to read it
        answer: dict[str, object] = {}
        probe = threading.Thread(target=lambda: answer.update(
            started=time.monotonic(), found=lookups.context_for("81.2.69.160"),
            finished=time.monotonic()))
        probe.start()
        probe.join(timeout=2)
        pipe.write(paris.read_bytes())
    reloading.join(timeout=10)
    probe.join(timeout=10)

    assert answer["found"]["geo"]["city"] == "London"
    assert answer["finished"] - answer["started"] < 1.0  # blocked, it would wait 2 s or more
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "Paris"
