"""events/rules/: CRUD with the Rules page's checks; bindings are kept as they are."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_group, make_rule, make_transport
from tests.helpers import csrf_token, events
from webapp.core.extensions import db
from webapp.models import NotificationRule

URL = "/api/v3/events/rules/"
RULE_KEYS = {"pk", "name", "transports", "severity", "destination_group",
             "destination_group_obj", "destination_event_user", "enabled",
             "policy_engine_mode", "throttle_minutes", "throttle_key"}


@pytest.fixture
def targets(app):
    """A transport and a group to point rules at."""
    with app.app_context():
        return str(make_transport("bell", "local").uuid), str(make_group("ops").group_uuid)


def test_create_read_update_delete_with_audit(app, client, admin_key, targets):
    transport, group = targets
    created = client.post(URL, headers=bearer(admin_key), json={
        "name": "failed logins", "transports": [transport], "severity": "alert",
        "destination_group": group, "destination_event_user": True})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert set(body) == RULE_KEYS and body["transports"] == [transport]
    assert body["destination_group_obj"]["name"] == "ops" and body["enabled"] is True
    assert body["throttle_key"] == "{{ event.user.username }}:{{ event.action }}"
    url = f"{URL}{body['pk']}/"
    assert client.get(url, headers=bearer(admin_key)).get_json() == body
    assert client.get(URL, headers=bearer(admin_key)).get_json()["results"] == [body]
    patched = client.patch(url, headers=bearer(admin_key),
                           json={"destination_group": None, "throttle_minutes": 5})
    assert patched.get_json()["destination_group_obj"] is None
    assert patched.get_json()["throttle_minutes"] == 5
    assert patched.get_json()["transports"] == [transport]
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204
    assert client.get(url, headers=bearer(admin_key)).status_code == 404
    with app.app_context():
        audited = {event.action for event in events() if event.context.get("model", {})
                   .get("model_name") == "notificationrule"}
    assert audited == {"model_created", "model_updated", "model_deleted"}


def test_update_keeps_the_bindings(app, client, admin_key):
    with app.app_context():
        rule = make_rule("logins", actions=("login", "logout"))
        pk = rule.uuid
    response = client.put(f"{URL}{pk}/", headers=bearer(admin_key), json={"name": "renamed"})
    assert response.status_code == 200
    with app.app_context():
        rule = db.session.query(NotificationRule).filter_by(uuid=pk).one()
        assert rule.name == "renamed" and len(rule.bindings) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "transports": ["00000000-0000-0000-0000-000000000009"]}, "transports"),
    ({"name": "x", "destination_group": "00000000-0000-0000-0000-000000000009"},
     "destination_group"),
    ({"name": "x", "throttle_key": "{{ event.action "}, "throttle_key"),
    ({"name": "x", "throttle_minutes": -1}, "throttle_minutes"),
    ({"name": "x", "severity": "loud"}, "severity"),
    ({"name": "x", "policy_engine_mode": "some"}, "policy_engine_mode"),
    ({"name": "x", "transports": "bell"}, "transports"),
    ({"name": "x", "bindings": []}, "bindings"),
])
def test_validation_errors(client, admin_key, targets, body, field):
    response = client.post(URL, headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and field in response.get_json(), response.text


def test_names_are_unique(client, admin_key):
    assert client.post(URL, headers=bearer(admin_key), json={"name": "r"}).status_code == 201
    again = client.post(URL, headers=bearer(admin_key), json={"name": "R"})
    assert again.status_code == 400 and "name" in again.get_json()


def test_regular_users_are_refused(app, client, user_key):
    with app.app_context():
        pk = make_rule("logins").uuid
    for method, url in (("get", URL), ("post", URL), ("get", f"{URL}{pk}/"),
                        ("patch", f"{URL}{pk}/"), ("delete", f"{URL}{pk}/")):
        assert getattr(client, method)(url, headers=bearer(user_key)).status_code == 403


def test_browser_session_needs_csrf(admin_client):
    assert admin_client.post(URL, json={"name": "r"}).status_code == 400
    created = admin_client.post(URL, json={"name": "r"},
                                headers={"X-CSRFToken": csrf_token(admin_client)})
    assert created.status_code == 201


@pytest.mark.parametrize("body", [{"name": "a\u0000b"}, {"name": "x", "throttle_key": "\u0000"},
                                  {"name": "x", "transports": ["\u0000"]}])
def test_nul_characters_are_refused(client, admin_key, body):
    """PostgreSQL cannot store them: a 400, never a 500."""
    response = client.post(URL, headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and "non_field_errors" in response.get_json()
