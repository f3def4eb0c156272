"""Superuser groups make their members, and members of their subgroups, administrators."""

from __future__ import annotations

from tests.conftest import USER_PASSWORD
from tests.helpers import login
from webapp.core.extensions import db
from webapp.models import Group, User


def _put_alice_in(app, *, group_is_superuser: bool, via_subgroup: bool) -> None:
    with app.app_context():
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        top = Group(name="operators", is_superuser=group_is_superuser)
        target = Group(name="night-shift", parent=top) if via_subgroup else top
        db.session.add_all([top, target])
        target.users.append(alice)
        db.session.commit()


def test_a_member_of_a_superuser_group_reaches_admin_pages(app, client, regular_user):
    _put_alice_in(app, group_is_superuser=True, via_subgroup=False)
    login(client, "alice", USER_PASSWORD)
    assert client.get("/overview").status_code == 200
    assert client.get("/").headers["Location"] == "/overview"


def test_a_member_of_a_subgroup_of_a_superuser_group_is_an_administrator_too(
        app, client, regular_user):
    _put_alice_in(app, group_is_superuser=True, via_subgroup=True)
    login(client, "alice", USER_PASSWORD)
    assert client.get("/settings/").status_code == 200


def test_an_ordinary_group_grants_nothing(app, client, regular_user):
    _put_alice_in(app, group_is_superuser=False, via_subgroup=False)
    login(client, "alice", USER_PASSWORD)
    assert client.get("/overview").status_code == 403


def test_leaving_the_group_takes_the_rights_away(app, client, regular_user):
    _put_alice_in(app, group_is_superuser=True, via_subgroup=False)
    login(client, "alice", USER_PASSWORD)
    with app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.name == "operators"))
        group.users.clear()
        db.session.commit()
    assert client.get("/overview").status_code == 403
