"""core/users/, core/groups/, core/tokens/ and who may reach what."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.factories import make_group, make_token, make_user
from tests.helpers import csrf_token, events
from webapp.core.extensions import db
from webapp.models import User

#: The keys of the Elastic seed's example user and group documents.
USER_KEYS = {"pk", "username", "name", "is_active", "last_login", "is_superuser", "groups",
             "groups_obj", "email", "avatar", "attributes", "uid", "path", "type", "uuid"}
GROUP_KEYS = {"pk", "num_pk", "name", "is_superuser", "parent", "parent_name", "users",
              "users_obj", "attributes", "roles", "roles_obj"}


@pytest.fixture
def directory(app, admin):
    with app.app_context():
        carol = make_user("carol")
        parent = make_group("admins-parent", carol)
        child = make_group("ops", carol, db.session.get_one(User, admin))
        child.parent = parent
        db.session.commit()


def test_users_as_the_agent_reads_them(client, admin_key, directory):
    body = client.get("/api/v3/core/users/?include_groups=false&page=1&page_size=1000",
                      headers=bearer(admin_key)).get_json()
    users = {user["username"]: user for user in body["results"]}
    assert set(users) == {"admin", "carol"} and body["pagination"]["next"] == 0
    carol = users["carol"]
    assert set(carol) >= USER_KEYS and carol["groups_obj"] is None
    assert isinstance(carol["pk"], int) and len(carol["groups"]) == 2
    full = client.get("/api/v3/core/users/", headers=bearer(admin_key)).get_json()
    assert full["results"][1]["groups_obj"][0]["name"] == "admins-parent"


def test_groups_as_the_agent_reads_them(client, admin_key, directory):
    body = client.get("/api/v3/core/groups/?include_users=false&page=1&page_size=1",
                      headers=bearer(admin_key)).get_json()
    assert body["pagination"]["next"] == 2
    group = body["results"][0]
    assert set(group) >= GROUP_KEYS and group["users_obj"] is None
    ops = client.get("/api/v3/core/groups/?name=ops", headers=bearer(admin_key)).get_json()
    ops = ops["results"][0]
    assert ops["parent"] == group["pk"] and ops["parent_name"] == "admins-parent"
    assert {member["username"] for member in ops["users_obj"]} == {"admin", "carol"}
    detail = client.get(f"/api/v3/core/groups/{ops['pk']}/", headers=bearer(admin_key))
    assert detail.get_json() == ops


def test_user_and_group_writes_record_audit_events(app, client, admin_key, directory):
    created = client.post("/api/v3/core/users/", headers=bearer(admin_key),
                          json={"username": "erin", "name": "", "email": "erin@example.com"})
    assert created.status_code == 201
    pk = created.get_json()["pk"]
    patched = client.patch(f"/api/v3/core/users/{pk}/", headers=bearer(admin_key),
                           json={"name": "Erin"})
    assert patched.get_json()["name"] == "Erin"
    group = client.post("/api/v3/core/groups/", headers=bearer(admin_key),
                        json={"name": "auditors", "users": [pk]})
    assert group.status_code == 201 and group.get_json()["users"] == [pk]
    assert client.delete(f"/api/v3/core/users/{pk}/", headers=bearer(admin_key)).status_code \
        == 204
    with app.app_context():
        names = [(event.action, event.context["model"]["model_name"]) for event in events()
                 if event.action.startswith("model_")]
    assert {("model_created", "user"), ("model_updated", "user"), ("model_deleted", "user"),
            ("model_created", "group")} <= set(names)
    duplicate = client.post("/api/v3/core/groups/", headers=bearer(admin_key),
                            json={"name": "auditors"})
    assert duplicate.status_code == 400 and "name" in duplicate.get_json()


@pytest.mark.parametrize("url", ["/api/v3/events/events/", "/api/v3/core/users/",
                                 "/api/v3/core/groups/", "/api/v3/events/events/volume/"])
def test_regular_user_token_is_refused_elsewhere(client, user_key, url):
    response = client.get(url, headers=bearer(user_key))
    assert response.status_code == 403 and "detail" in response.get_json()


@pytest.mark.parametrize("headers", [{}, bearer("not-a-real-key")])
def test_no_valid_credentials_is_a_401_asking_for_a_bearer_token(client, headers):
    response = client.get("/api/v3/events/events/", headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.get_json()["detail"] == "Authentication credentials were not provided."


def test_signed_out_browser_pages_still_go_to_the_login_page(client):
    response = client.get("/events/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_tokens_are_the_callers_own(app, client, admin, user_key):
    with app.app_context():
        make_token(db.session.get_one(User, admin), identifier="admins-token")
    listed = client.get("/api/v3/core/tokens/", headers=bearer(user_key)).get_json()
    assert [token["user_obj"]["username"] for token in listed["results"]] == ["alice"]
    assert client.get("/api/v3/core/tokens/admins-token/",
                      headers=bearer(user_key)).status_code == 404
    created = client.post("/api/v3/core/tokens/", headers=bearer(user_key),
                          json={"identifier": "alice-ci", "description": "CI"})
    assert created.status_code == 201 and created.get_json()["key"]
    again = client.get("/api/v3/core/tokens/alice-ci/", headers=bearer(user_key)).get_json()
    assert "key" not in again
    new_key = created.get_json()["key"]
    assert client.get("/api/v3/core/tokens/", headers=bearer(new_key)).status_code == 200
    assert client.delete("/api/v3/core/tokens/alice-ci/",
                         headers=bearer(user_key)).status_code == 204


def test_browser_session_needs_csrf_for_writes(admin_client):
    assert admin_client.get("/api/v3/events/events/").status_code == 200
    body = {"action": "from_browser", "app": "ui"}
    refused = admin_client.post("/api/v3/events/events/", json=body)
    assert refused.status_code == 400 and refused.mimetype == "application/json"
    accepted = admin_client.post("/api/v3/events/events/", json=body,
                                 headers={"X-CSRFToken": csrf_token(admin_client)})
    assert accepted.status_code == 201


def test_schema_and_browser_are_public(client):
    schema = client.get("/api/v3/schema/").get_json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v3/events/events/" in schema["paths"]
    page = client.get("/api/v3/schema/browser/")
    assert page.status_code == 200 and b"api-browser.js" in page.data
    assert b"<script>" not in page.data
