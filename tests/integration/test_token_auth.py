"""API tokens as bearer credentials: who they sign in, and what a bad one records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.factories import make_token, make_user
from tests.helpers import events
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Token, User


@pytest.fixture
def admin_key(app, admin) -> str:
    with app.app_context():
        return make_token(db.session.get(User, admin), identifier="ops-cli")[1]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_valid_token_signs_the_request_in_as_its_user_and_notes_last_use(
        app, client, admin_key):
    assert client.get("/overview", headers=bearer(admin_key)).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Token)).last_used is not None
        assert [e for e in events() if e.action == "model_updated"] == []


def test_a_token_request_needs_no_csrf_token(app, client, admin_key):
    response = client.post("/settings/", headers=bearer(admin_key),
                           data={"event_retention": "days=90"})
    assert response.status_code == 302
    with app.app_context():
        from webapp.models import Settings
        assert db.session.get(Settings, 1).event_retention == "days=90"


def test_the_token_is_not_remembered_in_a_session(client, admin_key):
    client.get("/overview", headers=bearer(admin_key))
    assert client.get("/overview").status_code == 302


@pytest.mark.parametrize(("setup", "reason"), [
    ("unknown", "invalid_token"),
    ("expired", "expired_token"),
    ("inactive", "inactive_token_user"),
])
def test_an_unusable_token_is_refused_and_recorded_as_suspicious(app, client, admin, setup,
                                                                 reason):
    with app.app_context():
        owner = make_user("svc", superuser=True)
        token, key = make_token(owner)
        if setup == "unknown":
            key = "not-a-real-key-" + "x" * 30
        elif setup == "expired":
            token.expires = utcnow() - timedelta(minutes=1)
        else:
            owner.is_active = False
        db.session.commit()

    response = client.get("/overview", headers=bearer(key))

    assert response.status_code == 302
    with app.app_context():
        (event,) = events("suspicious_request")
        assert event.context["reason"] == reason
        assert key not in json.dumps([event.context, event.user])


def test_a_bad_token_is_not_rescued_by_a_signed_in_session(app, admin_client):
    response = admin_client.post("/settings/", headers=bearer("forged-key-123456"),
                                 data={"event_retention": "days=1"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_a_junk_token_does_not_switch_off_csrf_on_public_forms(app, client, admin):
    from tests.conftest import ADMIN_PASSWORD

    response = client.post("/auth/login", headers=bearer("junk-key-123456789"),
                           data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200  # the form refuses it: no session was started
    assert client.get("/overview").status_code == 302
