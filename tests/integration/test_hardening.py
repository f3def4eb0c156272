"""Defences found by review: each spec names the attack or failure it closes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_token, make_user
from tests.helpers import events, login, post_form
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.accounts import create_user, delete_user
from webapp.directory.token_auth import user_for_key
from webapp.models import BackgroundTask, Token, User
from webapp.system.background import running_task


def test_a_failed_statement_never_puts_its_values_into_an_error_event(new_app, admin):
    app, client = new_app, new_app.test_client()

    @app.get("/-/duplicate-user")
    def duplicate_user():
        for _ in range(2):
            user = User(username="twin", email="twin@example.com")
            user.set_password("twin-password-1")
            db.session.add(user)
        db.session.flush()

    login(client, "admin", ADMIN_PASSWORD)
    assert client.get("/-/duplicate-user").status_code == 500
    with app.app_context():
        (event,) = events("system_exception")
        text = repr(event.context)
        assert "IntegrityError" in text
        assert "scrypt:" not in text and "twin-password-1" not in text
        assert "hidden due to hide_parameters" in text


def test_deleting_a_user_deletes_their_tokens_and_their_id_is_never_reused(ctx):
    bob = make_user("bob")
    _, key = make_token(bob)
    bob_id = bob.id
    db.session.expire_all()  # the tokens are not loaded: the database must cascade
    delete_user(db.session.get(User, bob_id), actor=make_user("root", superuser=True))
    db.session.commit()

    carol = create_user("carol")
    db.session.commit()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Token)) == 0
    assert carol.id != bob_id
    assert user_for_key(key) is None
    assert events("suspicious_request")[-1].context["reason"] == "invalid_token"


def test_an_unknown_username_costs_the_same_password_check_as_a_known_one(
        app, client, admin, monkeypatch):
    import webapp.views.auth as auth_views

    calls: list[str] = []
    real = auth_views.check_password_hash
    monkeypatch.setattr(auth_views, "check_password_hash",
                        lambda stored, given: calls.append(given) or real(stored, given))
    login(client, "nobody-here", "some-password-1")
    assert calls == ["some-password-1"]


def test_an_event_keeps_a_bounded_copy_of_a_huge_request(app, client):
    query = "&".join(f"k{n}={'v' * 5000}" for n in range(200))
    post_form(client, f"/auth/login?{query}", {"username": "nobody", "password": "x"},
              headers={"User-Agent": "A" * 10_000})
    with app.app_context():
        request = events("login_failed")[-1].context["http_request"]
    assert len(request["args"]) == 50
    assert max(len(value) for value in request["args"].values()) == 1000
    assert len(request["user_agent"]) == 1000


def test_a_post_to_an_unknown_address_is_a_404_not_a_csrf_alarm(app, client):
    assert client.post("/no/such/form", data={"x": "1"}).status_code == 404
    with app.app_context():
        assert events("suspicious_request") == []


def test_a_task_whose_process_died_is_abandoned_so_it_can_start_again(ctx):
    stale = BackgroundTask(kind="reapply_retention", status="running",
                           heartbeat_at=utcnow() - timedelta(minutes=10))
    db.session.add(stale)
    db.session.commit()

    assert running_task("reapply_retention") is None
    assert stale.status == "error" and "Interrupted" in stale.message


def test_a_busy_token_notes_its_last_use_at_most_once_a_minute(ctx):
    token, key = make_token(make_user("svc"))
    user_for_key(key)
    first = db.session.get(Token, token.id).last_used
    user_for_key(key)
    assert db.session.get(Token, token.id).last_used == first
