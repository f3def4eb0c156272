"""policies/bindings/: a policy, group or user bound to a notification rule."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_group, make_rule
from tests.helpers import csrf_token, events
from webapp.core.extensions import db
from webapp.models import ExpressionPolicy, NotificationRule

URL = "/api/v3/policies/bindings/"
BINDING_KEYS = {"pk", "policy", "group", "user", "policy_obj", "group_obj", "user_obj",
                "target", "negate", "enabled", "order", "timeout", "failure_result"}


@pytest.fixture
def parts(app):
    """Two rules (the first bound to one matcher), a spare policy and a group."""
    with app.app_context():
        first, second = make_rule("first", actions=("login",)), make_rule("second", actions=())
        policy = ExpressionPolicy(name="always", expression="true")
        db.session.add(policy)
        db.session.commit()
        return {"first": str(first.uuid), "second": str(second.uuid),
                "policy": str(policy.uuid), "group": str(make_group("ops").group_uuid)}


def test_create_read_update_delete_with_audit(app, client, admin_key, parts):
    created = client.post(URL, headers=bearer(admin_key), json={
        "target": parts["first"], "policy": parts["policy"], "order": 5, "negate": True})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert set(body) == BINDING_KEYS and body["policy_obj"]["name"] == "always"
    assert body["policy_obj"]["bound_to"] == 1 and body["negate"] and body["timeout"] == 30
    url = f"{URL}{body['pk']}/"
    assert client.get(url, headers=bearer(admin_key)).get_json() == body
    listed = client.get(f"{URL}?target={parts['first']}", headers=bearer(admin_key)).get_json()
    assert [item["order"] for item in listed["results"]] == [0, 5]
    regrouped = client.patch(url, headers=bearer(admin_key),
                             json={"policy": None, "group": parts["group"], "enabled": False})
    assert regrouped.status_code == 200, regrouped.text
    moved = regrouped.get_json()
    assert moved["group_obj"]["name"] == "ops" and moved["policy"] is None
    assert moved["pk"] == body["pk"] and moved["enabled"] is False and moved["negate"]
    elsewhere = client.patch(url, headers=bearer(admin_key), json={"target": parts["second"]})
    assert elsewhere.get_json()["target"] == parts["second"]
    with app.app_context():
        first = db.session.query(NotificationRule).filter_by(name="first").one()
        assert len(first.bindings) == 1
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204
    assert client.get(url, headers=bearer(admin_key)).status_code == 404
    with app.app_context():
        audited = {event.action for event in events() if event.context.get("model", {})
                   .get("model_name") == "policybinding"}
    assert {"model_created", "model_updated", "model_deleted"} <= audited


def test_binding_a_user(client, admin_key, parts, admin):
    created = client.post(URL, headers=bearer(admin_key),
                          json={"target": parts["second"], "user": admin, "order": 0})
    assert created.status_code == 201
    assert created.get_json()["user_obj"]["username"] == "admin"


@pytest.mark.parametrize(("extra", "field"), [
    ({}, "non_field_errors"),
    ({"policy": "P", "group": "G"}, "non_field_errors"),
    ({"policy": "00000000-0000-0000-0000-000000000009"}, "policy"),
    ({"user": 999_999}, "user"),
    ({"policy": "P", "target": "00000000-0000-0000-0000-000000000009"}, "target"),
    ({"policy": "P", "timeout": 0}, "timeout"),
    ({"policy": "P", "colour": "red"}, "colour"),
])
def test_validation_errors(client, admin_key, parts, extra, field):
    named = {"P": parts["policy"], "G": parts["group"]}
    body = {"target": parts["first"], "order": 1,
            **{key: named.get(value, value) for key, value in extra.items()}}
    response = client.post(URL, headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and field in response.get_json(), response.text


def test_regular_users_are_refused(client, user_key, parts):
    assert client.get(URL, headers=bearer(user_key)).status_code == 403
    assert client.post(URL, headers=bearer(user_key), json={
        "target": parts["first"], "policy": parts["policy"], "order": 1}).status_code == 403


def test_browser_session_needs_csrf(admin_client, parts):
    body = {"target": parts["first"], "policy": parts["policy"], "order": 1}
    assert admin_client.post(URL, json=body).status_code == 400
    assert admin_client.post(URL, json=body, headers={
        "X-CSRFToken": csrf_token(admin_client)}).status_code == 201
