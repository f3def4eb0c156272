"""policies/all/, policies/event_matcher/ and policies/expression/: saved through the
policy admin functions, with their validation."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_rule
from tests.helpers import csrf_token, events

BASE = "/api/v3/policies/"
META_KEYS = {"component", "verbose_name", "verbose_name_plural", "meta_model_name", "bound_to"}


def test_event_matcher_crud_with_audit(app, client, admin_key):
    created = client.post(f"{BASE}event_matcher/", headers=bearer(admin_key),
                          json={"name": "failed", "action": "login_failed"})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert set(body) >= META_KEYS | {"pk", "name", "action", "client_ip", "app", "model"}
    assert body["component"] == "ak-policy-event-matcher-form" and body["bound_to"] == 0
    url = f"{BASE}event_matcher/{body['pk']}/"
    assert client.get(url, headers=bearer(admin_key)).get_json() == body
    patched = client.patch(url, headers=bearer(admin_key), json={"client_ip": "10.0.0.0/8"})
    assert patched.get_json()["client_ip"] == "10.0.0.0/8"
    assert patched.get_json()["action"] == "login_failed"
    cleared = client.patch(url, headers=bearer(admin_key), json={"action": None})
    assert cleared.get_json()["action"] is None
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204
    assert client.get(url, headers=bearer(admin_key)).status_code == 404
    with app.app_context():
        audited = {event.action for event in events() if event.context.get("model", {})
                   .get("model_name") == "eventmatcherpolicy"}
    assert audited == {"model_created", "model_updated", "model_deleted"}


def test_expression_crud(client, admin_key):
    created = client.post(f"{BASE}expression/", headers=bearer(admin_key),
                          json={"name": "root", "expression": 'event.action == "login"'})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert body["verbose_name"] == "Expression Policy" and body["execution_logging"] is False
    url = f"{BASE}expression/{body['pk']}/"
    patched = client.patch(url, headers=bearer(admin_key), json={"execution_logging": True})
    assert patched.get_json()["execution_logging"] is True
    assert patched.get_json()["expression"] == 'event.action == "login"'
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204


def test_all_lists_every_kind_with_bound_to(app, client, admin_key):
    with app.app_context():
        make_rule("logins", actions=("login",))
    client.post(f"{BASE}expression/", headers=bearer(admin_key),
                json={"name": "x", "expression": "true"})
    results = client.get(f"{BASE}all/", headers=bearer(admin_key)).get_json()["results"]
    assert [(item["name"], item["bound_to"]) for item in results] == [
        ("logins-match-login", 1), ("x", 0)]
    one = client.get(f"{BASE}all/{results[0]['pk']}/", headers=bearer(admin_key)).get_json()
    assert one == results[0]
    matchers = client.get(f"{BASE}event_matcher/", headers=bearer(admin_key)).get_json()
    assert [item["name"] for item in matchers["results"]] == ["logins-match-login"]
    assert client.delete(f"{BASE}all/{results[1]['pk']}/",
                         headers=bearer(admin_key)).status_code == 204


@pytest.mark.parametrize(("path", "body", "field"), [
    ("event_matcher/", {"name": "x"}, "non_field_errors"),
    ("event_matcher/", {"name": "x", "client_ip": "not an ip"}, "non_field_errors"),
    ("event_matcher/", {"name": "x", "model": "nodot"}, "non_field_errors"),
    ("event_matcher/", {"action": "login"}, "name"),
    ("expression/", {"name": "x", "expression": "event.__class__"}, "expression"),
    ("expression/", {"name": "x", "expression": "(("}, "expression"),
    ("expression/", {"name": "x"}, "expression"),
    ("expression/", {"name": "x", "expression": "1", "kind": "x"}, "kind"),
])
def test_validation_errors(client, admin_key, path, body, field):
    response = client.post(f"{BASE}{path}", headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and field in response.get_json(), response.text


def test_names_are_unique_across_kinds(client, admin_key):
    assert client.post(f"{BASE}expression/", headers=bearer(admin_key),
                       json={"name": "p", "expression": "1"}).status_code == 201
    again = client.post(f"{BASE}event_matcher/", headers=bearer(admin_key),
                        json={"name": "P", "action": "login"})
    assert again.status_code == 400 and "name" in again.get_json()


def test_regular_users_are_refused(client, user_key):
    for path in ("all/", "event_matcher/", "expression/"):
        assert client.get(f"{BASE}{path}", headers=bearer(user_key)).status_code == 403
    assert client.post(f"{BASE}expression/", headers=bearer(user_key),
                       json={"name": "p", "expression": "1"}).status_code == 403


def test_browser_session_needs_csrf(admin_client):
    body = {"name": "p", "expression": "1"}
    assert admin_client.post(f"{BASE}expression/", json=body).status_code == 400
    assert admin_client.post(f"{BASE}expression/", json=body, headers={
        "X-CSRFToken": csrf_token(admin_client)}).status_code == 201
