"""Signing in and out, and what it records."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import csrf_token, events, login, post_form


def test_a_correct_password_signs_in_and_records_a_login(app, client, admin):
    response = login(client, "admin", ADMIN_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/overview"
    with app.app_context():
        (event,) = events("login")
        assert event.user == {"pk": admin, "username": "admin", "email": "admin@example.com"}
        assert event.context["auth_method"] == "password"
        assert event.context["http_request"]["path"] == "/auth/login"
        assert event.client_ip == "127.0.0.1"


def test_the_email_address_signs_in_too(client, admin):
    assert login(client, "ADMIN@example.com", ADMIN_PASSWORD).status_code == 302


def test_a_wrong_password_records_one_login_failed_naming_the_user_and_never_the_password(
        app, client, admin):
    response = login(client, "admin", "guess-Secret-42")

    assert response.status_code == 200
    assert "Invalid username or password." in response.text
    with app.app_context():
        (event,) = events("login_failed")
        assert event.context["username"] == "admin"
        assert event.username == "admin"
        assert event.user["is_anonymous"] is True
        assert "guess-Secret-42" not in json.dumps([event.context, event.user])
        assert events("login") == []


def test_an_unknown_user_fails_the_same_way(app, client):
    response = login(client, "nobody", "whatever-123")
    assert "Invalid username or password." in response.text
    with app.app_context():
        assert [e.context["username"] for e in events("login_failed")] == ["nobody"]


def test_an_inactive_user_cannot_sign_in(app, client):
    from tests.factories import make_user

    with app.app_context():
        make_user("carol", password="carol-password-1", is_active=False)
    assert "Invalid username or password." in login(client, "carol", "carol-password-1").text


def test_repeated_failures_for_one_username_are_slowed_down_with_429(app, client, admin):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_USERNAME"]):
        assert login(client, "admin", "wrong-password").status_code == 200

    blocked = login(client, "admin", ADMIN_PASSWORD)

    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text
    assert "Try again in 15 minutes" in blocked.text


def test_repeated_failures_from_one_address_block_other_usernames_too(app, client, admin):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for name in ("u1", "u2", "u3"):
        login(client, name, "wrong-password")
    assert login(client, "admin", ADMIN_PASSWORD).status_code == 429


def test_sign_out_records_a_logout_and_ends_the_session(app, admin_client):
    response = post_form(admin_client, "/auth/logout")

    assert response.status_code == 302
    assert admin_client.get("/overview").status_code == 302
    with app.app_context():
        assert len(events("logout")) == 1


def test_only_local_next_targets_are_followed(client, admin):
    token = csrf_token(client)
    for target, expected in (("/events/", "/events/"), ("https://evil.example/", "/overview"),
                             ("//evil.example/", "/overview"), ("/\\evil.example", "/overview")):
        response = client.post("/auth/login", data={
            "username": "admin", "password": ADMIN_PASSWORD, "next": target,
            "csrf_token": token})
        assert response.headers["Location"] == expected
        post_form(client, "/auth/logout")
        token = csrf_token(client)


@pytest.mark.parametrize("data", [
    {},
    {"username": "", "password": ""},
    {"username": "a" * 10_000, "password": "x"},
    {"username": "admin", "password": "p" * 100_000},
    {"username": ["a", "b"], "password": "x"},
    {"username": "\x00admin", "password": "x\x00"},
])
def test_bad_login_input_gets_a_clear_answer_not_a_500(client, admin, data):
    response = post_form(client, "/auth/login", data)
    assert response.status_code in (200, 400)
    assert "Sign in" in response.text or "NUL character" in response.text


def test_each_new_event_is_one_json_log_line(app, client, admin):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect(level=logging.INFO)
    logging.getLogger("herald.events").addHandler(handler)
    try:
        login(client, "admin", "wrong-password")
    finally:
        logging.getLogger("herald.events").removeHandler(handler)

    (line,) = lines
    logged = json.loads(line)
    assert logged["action"] == "login_failed"
    assert logged["context"]["username"] == "admin"
    assert logged["created"].endswith("Z")
