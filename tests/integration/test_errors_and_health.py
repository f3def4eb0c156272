"""Error pages, the events they record, and the health probes."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import csrf_token, events, login


def test_an_unhandled_error_shows_a_page_with_the_request_id_and_records_the_traceback(
        new_app, admin):
    app, client = new_app, new_app.test_client()

    @app.get("/-/explode")
    def explode():
        raise RuntimeError("the flux capacitor melted")

    login(client, "admin", ADMIN_PASSWORD)
    response = client.get("/-/explode")

    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert f'<code id="request-id">{request_id}</code>' in response.text
    assert "flux capacitor" not in response.text  # no internals shown to the visitor
    with app.app_context():
        (event,) = events("system_exception")
        assert event.context["message"] == "RuntimeError: the flux capacitor melted"
        assert 'raise RuntimeError("the flux capacitor melted")' in event.context["exception"]
        assert event.context["http_request"]["request_id"] == request_id
        assert event.user["username"] == "admin"


def test_unknown_pages_get_a_readable_404(admin_client):
    response = admin_client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not Found" in response.text and "request-id" in response.text


def test_an_unknown_or_malformed_event_id_is_a_404_not_a_500(admin_client):
    assert admin_client.get("/events/not-a-uuid").status_code == 404
    assert admin_client.get("/events/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_request_larger_than_the_limit_gets_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/auth/login", data={"username": "x" * 5000})
    assert response.status_code == 413


def test_liveness_and_readiness(client):
    assert client.get("/-/health/live/").json == {"status": "ok"}
    assert client.get("/-/health/ready/").json == {"status": "ok", "database": "ok"}


def test_readiness_fails_with_503_when_the_database_is_unreachable(app, client, monkeypatch):
    from webapp.core.extensions import db

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = app.test_client().get("/-/health/ready/")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_a_nul_character_in_input_is_refused_with_a_clear_400(app, admin_client):
    response = admin_client.get("/events/?username=ad%00min")

    assert response.status_code == 400
    assert "NUL character" in response.text


def test_a_path_with_a_nul_character_names_nothing_before_it_reaches_a_query(admin_client):
    response = admin_client.get("/api/v3/core/tokens/ad%00min/")

    assert response.status_code == 404


def test_a_nul_character_in_a_configuration_body_is_refused(admin_client):
    response = admin_client.post("/api/v3/core/groups/", data='{"name": "a\\u0000b"}',
                                 content_type="application/json",
                                 headers={"X-CSRFToken": csrf_token(admin_client)})

    assert response.status_code == 400
    assert "NUL characters" in response.get_data(as_text=True)


def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after_not_a_500(tmp_path):
    """A database restarting or locked is not a bug: clients are told to come back, and no
    traceback or system_exception is attempted (that would need the database too)."""
    from webapp import create_app
    from webapp.core.config import config_for_tests

    gone = tmp_path / "no-such-folder" / "herald.sqlite3"
    app = create_app(config_for_tests(f"sqlite:///{gone}"))
    client = app.test_client()

    page = client.post("/auth/login", data={"username": "admin", "password": "x",
                                            "csrf_token": csrf_token(client)})
    api = client.get("/api/v3/events/events/", headers={"Authorization": "Bearer abc"})

    for response in (page, api):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
    assert "cannot be reached right now" in page.text
    assert api.json["detail"].startswith("The database cannot be reached")
