"""Changing one's own password."""

from __future__ import annotations

import json

from tests.conftest import USER_PASSWORD
from tests.helpers import events, login, post_form
from webapp.core.extensions import db
from webapp.models import User


def change(client, current: str, new: str, confirm: str | None = None):
    return post_form(client, "/auth/password", {
        "current_password": current, "new_password": new,
        "confirm": new if confirm is None else confirm})


def test_a_user_changes_their_password_and_signs_in_with_the_new_one(app, user_client):
    response = change(user_client, USER_PASSWORD, "brand-new-pass-77")

    assert response.status_code == 302
    assert "Your password has been changed." in user_client.get("/auth/password").text
    with app.app_context():
        (event,) = events("password_set")
        assert event.user["username"] == "alice"
        everything = json.dumps([[e.context, e.user] for e in events()])
        assert "brand-new-pass-77" not in everything and USER_PASSWORD not in everything
        assert "scrypt:" not in everything
    post_form(user_client, "/auth/logout")
    assert login(user_client, "alice", "brand-new-pass-77").status_code == 302


def test_a_wrong_current_password_changes_nothing(app, user_client):
    response = change(user_client, "not-my-password", "brand-new-pass-77")

    assert "The current password is not correct." in response.text
    with app.app_context():
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        assert alice.check_password(USER_PASSWORD)
        assert events("password_set") == []


def test_a_short_or_mismatched_new_password_is_refused_next_to_the_field(user_client):
    assert "Field must be between 8 and 1024 characters long." in change(
        user_client, USER_PASSWORD, "short").text
    assert "The passwords differ." in change(
        user_client, USER_PASSWORD, "brand-new-pass-77", "brand-new-pass-78").text


def test_changing_the_password_signs_out_the_users_other_sessions(app, user_client):
    other_device = app.test_client()
    login(other_device, "alice", USER_PASSWORD)
    assert other_device.get("/auth/password").status_code == 200

    change(user_client, USER_PASSWORD, "brand-new-pass-77")

    assert user_client.get("/auth/password").status_code == 200
    assert other_device.get("/auth/password").status_code == 302


def test_an_admin_resetting_a_password_signs_the_user_out(app, user_client):
    with app.app_context():
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        alice.set_password("reset-by-admin-1")
        db.session.commit()
    assert user_client.get("/auth/password").status_code == 302
