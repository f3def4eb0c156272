"""Every route is walked: who may see it, and that every state change needs a CSRF token.

New routes are covered automatically: anything not listed here as public or open to every
signed-in user must behave as an admin page.
"""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.helpers import csrf_token, events

PUBLIC = {"static", "auth.login", "health.live", "health.ready", "api.schema", "api.browser"}
ANY_SIGNED_IN_USER = {"overview.root", "auth.logout", "auth.change_password",
                      "notifications.badge", "notifications.drawer", "notifications.index",
                      "notifications.mark_read", "notifications.mark_all_read",
                      "api.list_tokens", "api.get_token", "api.create_token", "api.delete_token",
                      "api.list_notifications", "api.get_notification",
                      "api.update_notification", "api.partial_update_notification",
                      "api.delete_notification", "api.mark_all_seen"}
PLACEHOLDERS = {"IntegerConverter": 1, "PathConverter": "x.css",
                "default": "00000000-0000-0000-0000-000000000001"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def concrete_url(rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        values[name] = PLACEHOLDERS.get(converter, PLACEHOLDERS["default"])
    return rule.build(values, append_unknown=False)[1]


def routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods & STATE_CHANGING)[0]
        found.append((rule.endpoint, method, concrete_url(rule)))
    return found


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": csrf_token(client)})


def test_anonymous_visitors_are_sent_to_sign_in_everywhere_but_public_pages(app, client):
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        response = call(client, method, url)
        if url.startswith("/api/"):  # API clients get JSON, as authentik answers them
            assert response.status_code == 401 and response.is_json, endpoint
            continue
        assert response.status_code == 302, (endpoint, response.status_code)
        assert response.headers["Location"].startswith("/auth/login"), endpoint


def test_regular_users_get_403_on_every_admin_page(app, user_client):
    checked = 0
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC or endpoint in ANY_SIGNED_IN_USER:
            continue
        response = call(user_client, method, url)
        assert response.status_code == 403, (endpoint, response.status_code)
        checked += 1
    assert checked >= 5


def test_regular_users_reach_their_own_pages(app, user_client):
    assert user_client.get("/auth/password").status_code == 200
    assert user_client.get("/").headers["Location"] == "/notifications/"
    assert user_client.get("/notifications/").status_code == 200


def test_admins_reach_admin_pages(admin_client):
    for url in ("/overview", "/events/", "/settings/"):
        assert admin_client.get(url).status_code == 200, url


@pytest.fixture
def state_changing_routes(app):
    return [(rule.endpoint, sorted(rule.methods & STATE_CHANGING)[0], concrete_url(rule))
            for rule in app.url_map.iter_rules() if rule.methods & STATE_CHANGING]


def test_every_state_changing_route_refuses_a_request_without_csrf_token(
        app, admin_client, state_changing_routes):
    assert len(state_changing_routes) >= 4
    for endpoint, method, url in state_changing_routes:
        response = admin_client.open(url, method=method, data={})
        assert response.status_code == 400, (endpoint, response.status_code)
        assert ("CSRF" if url.startswith("/api/") else "out of date") in response.text, endpoint
    with app.app_context():
        suspicious = events("suspicious_request")
        assert len(suspicious) == len(state_changing_routes)
        assert {e.context["reason"] for e in suspicious} == {"csrf"}


def test_an_htmx_request_with_a_stale_token_asks_the_page_to_refresh(admin_client):
    response = admin_client.post("/settings/retention/reapply", headers={"HX-Request": "true"},
                                 data={})
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"


def test_an_htmx_request_from_a_signed_out_tab_is_redirected_to_sign_in(client):
    response = client.get("/events/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login")
