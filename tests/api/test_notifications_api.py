"""events/notifications/: every signed-in user's own bell, and nobody else's."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_event
from tests.helpers import csrf_token
from webapp.core.extensions import db
from webapp.models import Notification

NOTIFICATION_KEYS = {"pk", "severity", "body", "created", "event", "seen", "hyperlink",
                     "hyperlink_label", "user"}
URL = "/api/v3/events/notifications/"


@pytest.fixture
def bells(app, admin, regular_user):
    """Alice has an unread alert about an event and a seen notice; the admin has one."""
    with app.app_context():
        event = make_event("login_failed", username="alice")
        db.session.add_all([
            Notification(severity="alert", body="Failed login", user_id=regular_user,
                         event_id=event.event_uuid, hyperlink="/events/x",
                         hyperlink_label="Open"),
            Notification(severity="notice", body="Old news", user_id=regular_user, seen=True),
            Notification(severity="warning", body="The admin's own", user_id=admin)])
        db.session.commit()
        return str(event.event_uuid)


def test_list_shows_only_own_notifications_with_their_event(client, user_key, bells):
    body = client.get(URL, headers=bearer(user_key)).get_json()
    assert body["pagination"]["count"] == 2
    found = {item["body"]: item for item in body["results"]}
    alert, notice = found["Failed login"], found["Old news"]
    assert set(alert) == NOTIFICATION_KEYS and alert["event"]["pk"] == bells
    assert alert["event"]["action"] == "login_failed" and alert["created"].endswith("Z")
    assert notice["event"] is None and notice["seen"] is True


def test_superusers_see_only_their_own_too(client, admin_key, bells):
    results = client.get(URL, headers=bearer(admin_key)).get_json()["results"]
    assert [item["body"] for item in results] == ["The admin's own"]


def test_a_superuser_lists_and_reaches_another_users_by_naming_them(client, admin_key,
                                                                    regular_user, bells):
    body = client.get(f"{URL}?user={regular_user}&seen=false",
                      headers=bearer(admin_key)).get_json()
    assert [(item["body"], item["user"]) for item in body["results"]] == [
        ("Failed login", regular_user)]
    pk = body["results"][0]["pk"]
    seen = client.patch(f"{URL}{pk}/", headers=bearer(admin_key), json={"seen": True})
    assert seen.status_code == 200 and seen.get_json()["seen"] is True


def test_naming_another_user_never_shows_a_regular_user_theirs(client, admin, user_key, bells):
    body = client.get(f"{URL}?user={admin}", headers=bearer(user_key)).get_json()
    assert body["results"] == [] and body["pagination"]["count"] == 0


@pytest.mark.parametrize("user", ["alice", "0", str(2**31)])
def test_a_user_filter_that_is_no_pk_is_a_400(client, admin_key, bells, user):
    response = client.get(f"{URL}?user={user}", headers=bearer(admin_key))
    assert response.status_code == 400 and "user" in response.get_json()


@pytest.mark.parametrize(("query", "bodies"), [("seen=false", ["Failed login"]),
                                                ("seen=true", ["Old news"]),
                                                ("severity=notice", ["Old news"]),
                                                ("severity=warning", [])])
def test_filters(client, user_key, bells, query, bodies):
    results = client.get(f"{URL}?{query}", headers=bearer(user_key)).get_json()["results"]
    assert [item["body"] for item in results] == bodies


def test_bad_filter_is_a_400_naming_the_field(client, user_key, bells):
    response = client.get(f"{URL}?severity=loud", headers=bearer(user_key))
    assert response.status_code == 400 and "severity" in response.get_json()


def test_retrieve_patch_and_delete_own(client, user_key, bells):
    pk = client.get(f"{URL}?seen=false", headers=bearer(user_key)).get_json()["results"][0]["pk"]
    detail = client.get(f"{URL}{pk}/", headers=bearer(user_key)).get_json()
    assert detail["pk"] == pk and detail["seen"] is False
    seen = client.patch(f"{URL}{pk}/", headers=bearer(user_key), json={"seen": True})
    assert seen.status_code == 200 and seen.get_json()["seen"] is True
    unseen = client.patch(f"{URL}{pk}/", headers=bearer(user_key), json={"seen": False})
    assert unseen.get_json()["seen"] is False
    assert client.delete(f"{URL}{pk}/", headers=bearer(user_key)).status_code == 204
    assert client.get(f"{URL}{pk}/", headers=bearer(user_key)).status_code == 404


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_body_without_seen_changes_nothing(client, user_key, bells, method):
    """authentik's notification requests require no field, for PUT as for PATCH."""
    pk = client.get(f"{URL}?seen=false", headers=bearer(user_key)).get_json()["results"][0]["pk"]
    response = getattr(client, method)(f"{URL}{pk}/", headers=bearer(user_key), json={})
    assert response.status_code == 200 and response.get_json()["seen"] is False


def test_others_notifications_are_not_found(client, admin_key, user_key, bells):
    pk = client.get(URL, headers=bearer(admin_key)).get_json()["results"][0]["pk"]
    assert client.get(f"{URL}{pk}/", headers=bearer(user_key)).status_code == 404
    assert client.patch(f"{URL}{pk}/", headers=bearer(user_key),
                        json={"seen": True}).status_code == 404
    assert client.delete(f"{URL}{pk}/", headers=bearer(user_key)).status_code == 404
    assert client.get(f"{URL}{pk}/", headers=bearer(admin_key)).get_json()["seen"] is False


@pytest.mark.parametrize("body", [{"seen": "maybe"}, {"seen": True, "body": "x"}])
def test_patch_validation_errors(client, user_key, bells, body):
    pk = client.get(URL, headers=bearer(user_key)).get_json()["results"][0]["pk"]
    response = client.patch(f"{URL}{pk}/", headers=bearer(user_key), json=body)
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert all(isinstance(messages, list) for messages in response.get_json().values())


def test_mark_all_seen_touches_only_own(client, admin_key, user_key, bells):
    response = client.post(f"{URL}mark_all_seen/", headers=bearer(user_key))
    assert response.status_code == 204
    assert client.get(f"{URL}?seen=false", headers=bearer(user_key)).get_json()["results"] == []
    assert client.get(f"{URL}?seen=false",
                      headers=bearer(admin_key)).get_json()["pagination"]["count"] == 1


def test_browser_session_needs_csrf(user_client, bells):
    refused = user_client.post(f"{URL}mark_all_seen/")
    assert refused.status_code == 400
    accepted = user_client.post(f"{URL}mark_all_seen/",
                                headers={"X-CSRFToken": csrf_token(user_client)})
    assert accepted.status_code == 204
