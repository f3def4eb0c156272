"""propertymappings/notification/: webhook mappings, checked with validate_mapping."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_transport
from tests.helpers import csrf_token, events
from webapp.core.extensions import db
from webapp.models import WebhookMapping

URL = "/api/v3/propertymappings/notification/"
BODY = '{"action": {{ event.action | tojson }}}'
HEADERS = '{"X-Action": {{ event.action | tojson }}}'


def test_create_read_update_delete_with_audit(app, client, admin_key):
    created = client.post(URL, headers=bearer(admin_key),
                          json={"name": "action", "expression": BODY})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert body["expression"] == BODY and body["managed"] is None
    assert body["component"] == "ak-property-mapping-notification-form"
    assert body["meta_model_name"] == "authentik_events.notificationwebhookmapping"
    assert body["verbose_name"] == "Webhook Mapping"
    url = f"{URL}{body['pk']}/"
    assert client.get(url, headers=bearer(admin_key)).get_json() == body
    assert client.get(URL, headers=bearer(admin_key)).get_json()["results"] == [body]
    patched = client.patch(url, headers=bearer(admin_key), json={"name": "renamed"})
    assert patched.get_json()["name"] == "renamed" and patched.get_json()["expression"] == BODY
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204
    assert client.get(url, headers=bearer(admin_key)).status_code == 404
    with app.app_context():
        audited = {event.action for event in events() if event.context.get("model", {})
                   .get("model_name") == "webhookmapping"}
    assert audited == {"model_created", "model_updated", "model_deleted"}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "expression": "{{ event.action }}"}, "expression"),
    ({"name": "x", "expression": "{{ oops"}, "expression"),
    ({"name": "x"}, "expression"),
    ({"name": "", "expression": BODY}, "name"),
    ({"name": "x", "expression": BODY, "purpose": "body"}, "purpose"),
])
def test_validation_errors(client, admin_key, body, field):
    response = client.post(URL, headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and field in response.get_json(), response.text


def test_a_mapping_used_for_headers_must_stay_headers(app, client, admin_key):
    with app.app_context():
        mapping = WebhookMapping(name="headers", expression=HEADERS)
        db.session.add(mapping)
        db.session.commit()
        make_transport(webhook_url="https://h/", webhook_mapping_headers_id=mapping.id)
        pk = mapping.uuid
    response = client.patch(f"{URL}{pk}/", headers=bearer(admin_key),
                            json={"expression": '["a list is a body, not headers"]'})
    assert response.status_code == 400 and "expression" in response.get_json()


def test_names_are_unique(client, admin_key):
    mapping = {"name": "m", "expression": BODY}
    assert client.post(URL, headers=bearer(admin_key), json=mapping).status_code == 201
    again = client.post(URL, headers=bearer(admin_key), json=mapping | {"name": "M"})
    assert again.status_code == 400 and "name" in again.get_json()


def test_regular_users_are_refused(client, user_key):
    assert client.get(URL, headers=bearer(user_key)).status_code == 403
    assert client.post(URL, headers=bearer(user_key),
                       json={"name": "m", "expression": BODY}).status_code == 403


def test_browser_session_needs_csrf(admin_client):
    mapping = {"name": "m", "expression": BODY}
    assert admin_client.post(URL, json=mapping).status_code == 400
    assert admin_client.post(URL, json=mapping, headers={
        "X-CSRFToken": csrf_token(admin_client)}).status_code == 201
