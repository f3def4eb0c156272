"""events/transports/: CRUD with the page's checks, the test button, and a write-only
signing secret."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.helpers import csrf_token, events
from webapp.core.extensions import db
from webapp.models import Notification, NotificationTransport, WebhookMapping

URL = "/api/v3/events/transports/"
TRANSPORT_KEYS = {"pk", "name", "mode", "mode_verbose", "webhook_url", "webhook_mapping_body",
                  "webhook_mapping_headers", "send_once", "email_subject_prefix",
                  "email_template", "verify_tls", "ca_bundle", "signing_secret_set"}
HOOK = {"name": "siem", "mode": "webhook", "webhook_url": "https://hooks.example.com/x",
        "signing_secret": "s3cret"}


@pytest.fixture
def mapping(app):
    with app.app_context():
        row = WebhookMapping(name="body", expression='{"a": {{ event.action | tojson }}}')
        db.session.add(row)
        db.session.commit()
        return str(row.uuid)


def test_create_read_update_delete_with_audit(app, client, admin_key, mapping):
    created = client.post(URL, headers=bearer(admin_key),
                          json={**HOOK, "webhook_mapping_body": mapping})
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert set(body) == TRANSPORT_KEYS and "s3cret" not in created.text
    assert body["mode_verbose"] == "Webhook (generic)" and body["signing_secret_set"]
    assert body["webhook_mapping_body"] == mapping
    url = f"{URL}{body['pk']}/"
    assert client.get(url, headers=bearer(admin_key)).get_json() == body
    listed = client.get(URL, headers=bearer(admin_key)).get_json()["results"]
    assert [item["pk"] for item in listed] == [body["pk"]]
    patched = client.patch(url, headers=bearer(admin_key), json={"send_once": True})
    assert patched.get_json()["send_once"] and patched.get_json()["signing_secret_set"]
    local = client.put(url, headers=bearer(admin_key), json={"name": "bell", "mode": "local"})
    assert local.get_json()["webhook_url"] == "" and not local.get_json()["signing_secret_set"]
    assert client.delete(url, headers=bearer(admin_key)).status_code == 204
    assert client.get(url, headers=bearer(admin_key)).status_code == 404
    with app.app_context():
        audited = {event.action for event in events() if event.context.get("model", {})
                   .get("model_name") == "notificationtransport"}
    assert audited == {"model_created", "model_updated", "model_deleted"}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x", "mode": "webhook"}, "webhook_url"),
    ({"name": "x", "mode": "webhook", "webhook_url": "ftp://host/"}, "webhook_url"),
    ({"name": "x", "mode": "webhook_slack", "webhook_url": "https://h/",
      "ca_bundle": "not pem"}, "ca_bundle"),
    ({"name": "x", "mode": "webhook", "webhook_url": "https://h/",
      "webhook_mapping_body": "00000000-0000-0000-0000-000000000009"}, "webhook_mapping_body"),
    ({"name": "x", "mode": "email", "email_template": "../secret.html"}, "email_template"),
    ({"name": "x", "mode": "pigeon"}, "mode"),
    ({"name": "", "mode": "local"}, "name"),
    ({"name": "x", "colour": "red"}, "colour"),
])
def test_validation_errors(client, admin_key, body, field):
    response = client.post(URL, headers=bearer(admin_key), json=body)
    assert response.status_code == 400 and field in response.get_json(), response.text


def test_names_are_unique(client, admin_key):
    assert client.post(URL, headers=bearer(admin_key), json={"name": "bell"}).status_code == 201
    again = client.post(URL, headers=bearer(admin_key), json={"name": "BELL"})
    assert again.status_code == 400 and "name" in again.get_json()


def test_local_test_adds_to_the_callers_bell(app, client, admin_key, admin):
    pk = client.post(URL, headers=bearer(admin_key), json={"name": "bell"}).get_json()["pk"]
    response = client.post(f"{URL}{pk}/test/", headers=bearer(admin_key))
    assert response.status_code == 200
    assert response.get_json() == {"messages": ["Added a notification to admin's bell."]}
    with app.app_context():
        assert db.session.query(Notification).filter_by(user_id=admin).count() == 1


def test_failed_webhook_test_reports_why(client, admin_key):
    body = {**HOOK, "webhook_url": "http://127.0.0.1:9/unreachable"}
    pk = client.post(URL, headers=bearer(admin_key), json=body).get_json()["pk"]
    messages = client.post(f"{URL}{pk}/test/", headers=bearer(admin_key)).get_json()["messages"]
    assert messages[0] == "The test failed." and any(m.startswith("error:") for m in messages)


def test_regular_users_are_refused(app, client, user_key):
    with app.app_context():
        transport = NotificationTransport(name="bell", mode="local")
        db.session.add(transport)
        db.session.commit()
        pk = transport.uuid
    for method, url in (("get", URL), ("post", URL), ("get", f"{URL}{pk}/"),
                        ("delete", f"{URL}{pk}/"), ("post", f"{URL}{pk}/test/")):
        assert getattr(client, method)(url, headers=bearer(user_key)).status_code == 403


def test_browser_session_needs_csrf(admin_client):
    assert admin_client.post(URL, json={"name": "bell"}).status_code == 400
    created = admin_client.post(URL, json={"name": "bell"},
                                headers={"X-CSRFToken": csrf_token(admin_client)})
    assert created.status_code == 201
