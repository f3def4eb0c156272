"""PUT and PATCH as DRF answers them for authentik: PUT must carry every field authentik's
request model requires (a missing one is `{field: ["This field is required."]}`), PATCH any
subset; either way the fields not sent keep their values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import bearer

API = "/api/v3"
#: Fields that change on every write, whatever was sent.
VOLATILE = {"last_updated"}


@dataclass(frozen=True)
class Resource:
    path: str
    create: dict[str, Any]
    required: tuple[str, ...]  # as in authentik-client 2025.10.4's `*Request` models
    patch: dict[str, Any]
    put_change: dict[str, Any]

    def __str__(self) -> str:
        return self.path


RESOURCES = [
    Resource("events/rules/", {"name": "rule", "severity": "alert"}, ("name",),
             {"severity": "warning"}, {"name": "renamed"}),
    Resource("events/transports/", {"name": "mail", "mode": "email"}, ("name",),
             {"send_once": True}, {"name": "renamed"}),
    Resource("propertymappings/notification/",
             {"name": "map", "expression": '{"action": {{ event.action | tojson }}}'},
             ("name", "expression"), {"name": "map2"},
             {"expression": '{"app": {{ event.app | tojson }}}'}),
    Resource("policies/event_matcher/", {"name": "match", "action": "login"}, ("name",),
             {"execution_logging": True}, {"name": "renamed"}),
    Resource("policies/expression/", {"name": "expr", "expression": 'event.app == "x"'},
             ("name", "expression"), {"execution_logging": True}, {"name": "renamed"}),
    Resource("core/users/", {"username": "erin", "name": "Erin"}, ("username", "name"),
             {"email": "erin@example.com"}, {"name": "Erin E."}),
    Resource("core/groups/", {"name": "ops"}, ("name",), {"is_superuser": True},
             {"name": "renamed"}),
    Resource("policies/bindings/", {"order": 1}, ("target", "order"), {"negate": True},
             {"order": 7}),
]


@pytest.fixture(params=RESOURCES, ids=str)
def made(request, client, admin_key) -> tuple[Resource, str, dict[str, Any]]:
    """One object of the resource, made through the API: its detail URL and its body."""
    resource: Resource = request.param
    body = dict(resource.create)
    if resource.path == "policies/bindings/":  # a binding needs a rule and a policy
        body["target"] = _created(client, admin_key, "events/rules/", {"name": "rule"})["pk"]
        body["policy"] = _created(client, admin_key, "policies/event_matcher/",
                                  {"name": "bound", "action": "login"})["pk"]
    created = _created(client, admin_key, resource.path, body)
    return resource, f"{API}/{resource.path}{created['pk']}/", created


def _created(client, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}/{path}", headers=bearer(key), json=body)
    assert response.status_code == 201, response.text
    return response.get_json()


def _steady(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in VOLATILE}


def test_put_without_the_required_fields_names_each_one(client, admin_key, made):
    resource, url, _ = made
    response = client.put(url, headers=bearer(admin_key), json={})
    assert response.status_code == 400
    assert response.get_json() == {field: ["This field is required."]
                                   for field in resource.required}


def test_put_with_the_required_fields_keeps_the_others(client, admin_key, made):
    resource, url, before = made
    body = {field: before[field] for field in resource.required} | resource.put_change
    response = client.put(url, headers=bearer(admin_key), json=body)
    assert response.status_code == 200, response.text
    assert _steady(response.get_json()) == _steady(before | resource.put_change)


def test_patch_changes_only_the_fields_sent(client, admin_key, made):
    resource, url, before = made
    response = client.patch(url, headers=bearer(admin_key), json=resource.patch)
    assert response.status_code == 200, response.text
    assert _steady(response.get_json()) == _steady(before | resource.patch)
    assert _steady(client.get(url, headers=bearer(admin_key)).get_json()) \
        == _steady(response.get_json())
