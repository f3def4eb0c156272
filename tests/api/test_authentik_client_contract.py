"""Herald driven by authentik's own generated Python client, authentik-client 2025.10.4.

The client validates every response against authentik's pydantic models (required fields,
types, enums), builds every request from them, and names its methods after authentik's
operation ids; so if these calls work against a live Herald on 127.0.0.1, a tool written for
authentik works against Herald unchanged.

Where the 2025.10 client cannot read authentik's own answers, the test says so and reads
Herald's with the model as authentik later fixed it: a policy binding's `policy_obj`,
`group_obj` and `user_obj` are typed as never null although the two a binding does not use
are always null (goauthentik/authentik#21416, fixed by #21421), and a rule's
`destination_group_obj` the same, though a rule without a group has none.

Herald's own values the client's enums cannot hold are kept out of the data here: Herald's
own actions (e.g. `export_ready`), `custom_` events (authentik's client refuses its own too)
and a matcher's `app`/`model`, which name Herald's apps rather than authentik's.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterator

import authentik_client.api
import pytest
from authentik_client import ApiClient, Configuration, CoreApi, EventsApi, PoliciesApi
from authentik_client import PropertymappingsApi as MappingsApi
from authentik_client.exceptions import (
    BadRequestException,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from authentik_client.models import (
    EventActions,
    EventMatcherPolicyRequest,
    ExpressionPolicyRequest,
    Group,
    GroupRequest,
    NotificationRequest,
    NotificationRule,
    NotificationRuleRequest,
    NotificationTransportModeEnum,
    NotificationTransportRequest,
    NotificationWebhookMappingRequest,
    PartialGroup,
    PartialUser,
    PatchedEventMatcherPolicyRequest,
    PatchedExpressionPolicyRequest,
    PatchedGroupRequest,
    PatchedNotificationRequest,
    PatchedNotificationRuleRequest,
    PatchedNotificationTransportRequest,
    PatchedNotificationWebhookMappingRequest,
    PatchedPolicyBindingRequest,
    PatchedUserRequest,
    Policy,
    PolicyBinding,
    PolicyBindingRequest,
    SeverityEnum,
    TokenRequest,
    UserRequest,
)
from authentik_client.models import EventRequest as ClientEventRequest

from tests.browser.live import serving
from tests.factories import make_event
from tests.integration.receivers import http_receiver
from webapp.core.extensions import db
from webapp.models import Notification

#: Herald's operations the 2025.10 client has no method for.
HERALD_ONLY = {
    "events_events_bulk_create",  # Herald's bulk ingest
    "events_events_stats_retrieve",  # authentik's client gained it after 2025.10
    "events_deliveries_list", "events_deliveries_retrieve", "events_deliveries_retry_create",
}
_SERIALIZER = re.compile(r"def _(\w+)_serialize\(.*?method='(\w+)',\s*resource_path='([^']+)'",
                         re.DOTALL)
_PARAMETER = re.compile(r"\{[^}]+\}")


class NullablePolicyBinding(PolicyBinding):
    """PolicyBinding with its target objects nullable, as authentik#21421 made them."""

    policy_obj: Policy | None
    group_obj: PartialGroup | None
    user_obj: PartialUser | None


class NullableGroupRule(NotificationRule):
    """NotificationRule whose `destination_group_obj` may be null (a rule without a group)."""

    destination_group_obj: Group | None


@pytest.fixture
def live(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _api(url: str, key: str | None) -> Iterator[ApiClient]:
    """A client of the live server; its kept-alive connections are closed afterwards, or the
    server would wait for them when it stops."""
    client = ApiClient(Configuration(host=f"{url}/api/v3", access_token=key))
    yield client
    client.rest_client.pool_manager.clear()


@pytest.fixture
def admin_api(live, admin_key) -> Iterator[ApiClient]:
    yield from _api(live, admin_key)


@pytest.fixture
def user_api(live, user_key) -> Iterator[ApiClient]:
    yield from _api(live, user_key)


def client_operations() -> dict[str, tuple[str, str]]:
    """operation id -> (method, path) as the client's *Api classes call them."""
    found = {}
    for module in pkgutil.iter_modules(authentik_client.api.__path__):
        source = inspect.getsource(importlib.import_module(f"{authentik_client.api.__name__}."
                                                           f"{module.name}"))
        for operation, method, path in _SERIALIZER.findall(source):
            found[operation] = (method, _PARAMETER.sub("{}", path))
    return found


def herald_operations(client) -> dict[str, tuple[str, str]]:
    """operation id -> (method, path) as Herald's generated OpenAPI document names them."""
    schema = client.get("/api/v3/schema/").get_json()
    return {operation["operationId"]: (method.upper(), _PARAMETER.sub(
        "{}", path.removeprefix("/api/v3"))) for path, operations in schema["paths"].items()
        for method, operation in operations.items()}


def test_operations_have_the_clients_ids_methods_and_paths(client):
    """Each operation Herald documents is the client's method of the same name, calling the
    same HTTP method and path; only Herald's own additions are unknown to the client."""
    clients, herald = client_operations(), herald_operations(client)
    shared = set(herald) - HERALD_ONLY
    assert {name: clients.get(name) for name in shared} == {name: herald[name] for name in shared}
    assert set(herald) >= HERALD_ONLY and not HERALD_ONLY & set(clients)
    assert {"events_events_list", "events_events_retrieve", "events_rules_create",
            "core_users_partial_update", "core_groups_update"} <= shared


def test_events_list_filters_retrieve_and_create(app, admin_api, admin):
    events = EventsApi(admin_api)
    created = events.events_events_create(ClientEventRequest(
        action=EventActions.CONFIGURATION_ERROR, app="tests.contract",
        context={"message": "disk full"}, client_ip="192.0.2.7"))
    assert created.action == EventActions.CONFIGURATION_ERROR
    assert created.user["username"] == "admin" and created.client_ip == "192.0.2.7"
    with app.app_context():
        logins = [str(make_event("login", username="carol").event_uuid) for _ in range(3)]
        make_event("logout")

    first = events.events_events_list(actions=["login"], page_size=2)
    second = events.events_events_list(actions=["login"], page_size=2, page=2)
    assert first.pagination.count == 3 and first.pagination.next == 2
    assert second.pagination.next == 0 and first.autocomplete == {}
    assert [str(event.pk) for event in first.results + second.results] == logins[::-1]
    assert [str(event.pk) for event in events.events_events_list(
        client_ip="192.0.2.7", action="configuration").results] == [str(created.pk)]
    assert events.events_events_list(username="nobody").results == []
    assert events.events_events_retrieve(str(created.pk)) == created


def test_event_charts(app, admin_api, admin):
    with app.app_context():
        application = {"pk": "4c3b6d5a2e1f", "app": "authentik_core", "name": "Grafana",
                       "model_name": "application"}
        for username in ("ann", "ben", "ann"):
            make_event("authorize_application", username=username,
                       authorized_application=application)
        make_event("login_failed")
    events = EventsApi(admin_api)
    volume = events.events_events_volume_list(actions=["authorize_application"])
    assert {point.action for point in volume} == {EventActions.AUTHORIZE_APPLICATION}
    assert sum(point.count for point in volume) == 3
    top = events.events_events_top_per_user_list(action="authorize_application", top_n=5)
    assert [(entry.application["name"], entry.counted_events) for entry in top] \
        == [("Grafana", 3)]
    components = {action.component for action in events.events_events_actions_list()}
    # every action authentik knows; its `custom_` prefix is no action, so Herald omits it
    assert components >= {action.value for action in EventActions} - {EventActions.CUSTOM}


@pytest.fixture
def receiver():
    with http_receiver() as running:
        yield running


def test_webhook_mapping_and_transport_crud_and_test(admin_api, receiver):
    mappings, events = MappingsApi(admin_api), EventsApi(admin_api)
    mapping = mappings.propertymappings_notification_create(NotificationWebhookMappingRequest(
        name="action only", expression='{"action": {{ event.action | tojson }}}'))
    assert mapping.pk and mappings.propertymappings_notification_partial_update(
        mapping.pk, PatchedNotificationWebhookMappingRequest(name="action")).name == "action"
    webhook = NotificationTransportModeEnum.WEBHOOK
    transport = events.events_transports_create(NotificationTransportRequest(
        name="siem", mode=webhook, webhook_url=receiver.url, webhook_mapping_body=mapping.pk))
    assert transport.mode == webhook and transport.mode_verbose
    outcome = events.events_transports_test_create(transport.pk)
    assert "status: 200" in outcome.messages
    assert receiver.wait_for(1)[0].json() == {"action": "custom_transport_test"}

    renamed = events.events_transports_update(transport.pk, NotificationTransportRequest(
        name="siem-2", mode=webhook, webhook_url=receiver.url))
    assert renamed.name == "siem-2" and renamed.webhook_mapping_body == mapping.pk
    once = events.events_transports_partial_update(
        transport.pk, PatchedNotificationTransportRequest(send_once=True))
    assert once.send_once and once.name == "siem-2"
    assert [found.pk for found in events.events_transports_list().results] == [transport.pk]
    events.events_transports_destroy(transport.pk)
    with pytest.raises(NotFoundException):
        events.events_transports_retrieve(transport.pk)
    mappings.propertymappings_notification_destroy(mapping.pk)
    assert mappings.propertymappings_notification_list().results == []


def test_rule_crud_with_a_destination_group(admin_api):
    core, events = CoreApi(admin_api), EventsApi(admin_api)
    group = core.core_groups_create(GroupRequest(name="on-call"))
    bell = events.events_transports_create(NotificationTransportRequest(name="bell"))
    rule = events.events_rules_create(NotificationRuleRequest(
        name="failed logins", transports=[bell.pk], severity=SeverityEnum.ALERT,
        destination_group=group.pk))
    assert rule.destination_group_obj.name == "on-call" and rule.transports == [bell.pk]
    assert events.events_rules_retrieve(rule.pk) == rule
    updated = events.events_rules_update(rule.pk, NotificationRuleRequest(
        name="failed logins!", destination_group=group.pk))
    assert updated.name == "failed logins!" and updated.severity == SeverityEnum.ALERT
    patched = events.events_rules_partial_update(rule.pk, PatchedNotificationRuleRequest(
        destination_event_user=True))
    assert patched.destination_event_user and patched.transports == [bell.pk]
    assert [found.pk for found in events.events_rules_list().results] == [rule.pk]
    events.events_rules_destroy(rule.pk)
    assert events.events_rules_list().pagination.count == 0


def test_a_rule_without_a_group_reads_with_the_nullable_model(admin_api):
    events = EventsApi(admin_api)
    raw = events.events_rules_create_without_preload_content(
        NotificationRuleRequest(name="to the event's user", destination_event_user=True))
    assert raw.status == 201
    rule = NullableGroupRule.from_json(raw.data.decode())
    assert rule.destination_group_obj is None and rule.destination_event_user


def test_policy_crud(admin_api):
    policies = PoliciesApi(admin_api)
    matcher = policies.policies_event_matcher_create(EventMatcherPolicyRequest(
        name="failed logins", action=EventActions.LOGIN_FAILED, client_ip="10.0.0.0/8"))
    assert (matcher.component, matcher.bound_to) == ("ak-policy-event-matcher-form", 0)
    assert matcher.meta_model_name == "authentik_policies_event_matcher.eventmatcherpolicy"
    matcher = policies.policies_event_matcher_update(matcher.pk, EventMatcherPolicyRequest(
        name="failed logins (LAN)", action=EventActions.LOGIN_FAILED))
    assert matcher.client_ip == "10.0.0.0/8"
    assert policies.policies_event_matcher_partial_update(
        matcher.pk, PatchedEventMatcherPolicyRequest(execution_logging=True)).execution_logging
    expression = policies.policies_expression_create(ExpressionPolicyRequest(
        name="admins", expression='event.user.username == "admin"'))
    assert expression.verbose_name == "Expression Policy"
    assert policies.policies_expression_update(expression.pk, ExpressionPolicyRequest(
        name="admins!", expression=expression.expression)).name == "admins!"
    assert policies.policies_expression_partial_update(expression.pk, (
        PatchedExpressionPolicyRequest(expression="true"))).expression == "true"
    listed = policies.policies_all_list()
    assert sorted(policy.name for policy in listed.results) == [
        "admins!", "failed logins (LAN)"]
    assert [found.pk for found in policies.policies_event_matcher_list().results] \
        == [matcher.pk]
    policies.policies_expression_destroy(expression.pk)
    policies.policies_all_destroy(matcher.pk)
    assert policies.policies_all_list().results == []
    with pytest.raises(BadRequestException) as refused:
        policies.policies_event_matcher_create(EventMatcherPolicyRequest(name="nothing"))
    assert "non_field_errors" in refused.value.body


def test_binding_crud_for_each_kind_of_target(admin_api, admin):
    core, events, policies = CoreApi(admin_api), EventsApi(admin_api), PoliciesApi(admin_api)
    rule = NullableGroupRule.from_json(events.events_rules_create_without_preload_content(
        NotificationRuleRequest(name="rule")).data.decode())
    matcher = policies.policies_event_matcher_create(EventMatcherPolicyRequest(
        name="logins", action=EventActions.LOGIN))
    group = core.core_groups_create(GroupRequest(name="ops"))
    bindings = policies.policies_bindings_create_without_preload_content
    made = [NullablePolicyBinding.from_json(bindings(PolicyBindingRequest(
        target=rule.pk, order=order, **target)).data.decode())
        for order, target in enumerate(({"policy": matcher.pk}, {"group": group.pk},
                                        {"user": admin}))]
    assert [(binding.policy_obj and binding.policy_obj.name,
             binding.group_obj and binding.group_obj.name,
             binding.user_obj and binding.user_obj.username) for binding in made] == [
        ("logins", None, None), (None, "ops", None), (None, None, "admin")]
    assert made[0].policy_obj.bound_to == 1 and made[0].target == rule.pk

    raw = policies.policies_bindings_partial_update_without_preload_content(
        made[0].pk, PatchedPolicyBindingRequest(negate=True, timeout=5))
    patched = NullablePolicyBinding.from_json(raw.data.decode())
    assert (patched.negate, patched.timeout, patched.policy) == (True, 5, matcher.pk)
    raw = policies.policies_bindings_update_without_preload_content(
        made[1].pk, PolicyBindingRequest(target=rule.pk, order=9, group=group.pk))
    assert NullablePolicyBinding.from_json(raw.data.decode()).order == 9
    raw = policies.policies_bindings_list_without_preload_content(target=rule.pk)
    listed = [NullablePolicyBinding.model_validate(item)
              for item in json.loads(raw.data)["results"]]
    assert [binding.pk for binding in listed] == [made[0].pk, made[2].pk, made[1].pk]
    policies.policies_bindings_destroy(made[2].pk)
    raw = policies.policies_bindings_list_without_preload_content(target=rule.pk)
    assert json.loads(raw.data)["pagination"]["count"] == 2


@pytest.fixture
def bells(app, admin, regular_user) -> dict[str, list[str]]:
    """Two notifications for alice (one about an event), one for the admin: pks by owner."""
    with app.app_context():
        event = make_event("login_failed", username="alice")
        rows = {"alice": [Notification(severity="alert", body="Failed login",
                                       user_id=regular_user, event_id=event.event_uuid),
                          Notification(severity="notice", body="Welcome", user_id=regular_user)],
                "admin": [Notification(severity="warning", body="Disk", user_id=admin)]}
        db.session.add_all([row for owned in rows.values() for row in owned])
        db.session.commit()
        return {owner: [str(row.uuid) for row in owned] for owner, owned in rows.items()}


def test_notifications_are_the_callers_own_unless_a_superuser_names_a_user(
        admin_api, user_api, admin, regular_user, bells):
    admins, alices = EventsApi(admin_api), EventsApi(user_api)
    assert [str(item.pk) for item in admins.events_notifications_list().results] \
        == bells["admin"]
    named = admins.events_notifications_list(user=regular_user)
    assert sorted(str(item.pk) for item in named.results) == sorted(bells["alice"])
    assert {item.event.action for item in named.results if item.event} \
        == {EventActions.LOGIN_FAILED}
    assert alices.events_notifications_list(user=admin).results == []
    with pytest.raises(NotFoundException):
        alices.events_notifications_retrieve(bells["admin"][0])


def test_notifications_are_marked_seen_and_deleted(user_api, bells):
    bell = EventsApi(user_api)
    first, second = bells["alice"]
    assert bell.events_notifications_partial_update(
        first, PatchedNotificationRequest(seen=True)).seen is True
    assert bell.events_notifications_update(first, NotificationRequest(seen=False)).seen is False
    bell.events_notifications_mark_all_seen_create()
    assert bell.events_notifications_list(seen=False).results == []
    bell.events_notifications_destroy(second)
    assert [str(item.pk) for item in bell.events_notifications_list().results] == [first]


def test_user_and_group_crud(admin_api):
    core = CoreApi(admin_api)
    user = core.core_users_create(UserRequest(username="erin", name="Erin",
                                              email="erin@example.com",
                                              attributes={"team": "blue"}))
    assert user.password_change_date and user.last_updated and user.groups_obj == []
    group = core.core_groups_create(GroupRequest(name="ops", users=[user.pk]))
    child = core.core_groups_create(GroupRequest(name="ops-eu", parent=group.pk))
    assert child.parent_name == "ops" and group.users_obj[0].username == "erin"
    detail = core.core_groups_retrieve(group.pk, include_children=True)
    assert [found.name for found in detail.children_obj] == ["ops-eu"]
    assert core.core_groups_retrieve(group.pk).children_obj is None
    listed = core.core_users_list(username="erin").results
    assert [found.name for found in listed[0].groups_obj] == ["ops"]
    assert core.core_users_list(include_groups=False).results[0].groups_obj is None

    renamed = core.core_users_update(user.pk, UserRequest(username="erin", name="Erin E."))
    assert (renamed.name, renamed.email) == ("Erin E.", "erin@example.com")
    assert renamed.last_updated >= user.last_updated
    assert core.core_users_partial_update(
        user.pk, PatchedUserRequest(is_active=False)).is_active is False
    with pytest.raises(BadRequestException) as refused:
        core.core_users_update(user.pk, UserRequest(username="erin2", name="Erin"))
    assert "username" in refused.value.body
    assert core.core_groups_update(group.pk, GroupRequest(name="ops-2")).users == [user.pk]
    assert core.core_groups_partial_update(
        group.pk, PatchedGroupRequest(is_superuser=True)).is_superuser is True
    assert [found.name for found in core.core_groups_list(search="ops").results] \
        == ["ops-2", "ops-eu"]
    core.core_groups_destroy(child.pk)
    core.core_users_destroy(user.pk)
    with pytest.raises(NotFoundException):
        core.core_users_retrieve(user.pk)


def test_tokens_are_the_callers_own(user_api, admin_api, regular_user):
    alices, admins = CoreApi(user_api), CoreApi(admin_api)
    token = alices.core_tokens_create(TokenRequest(identifier="alice-ci", description="CI"))
    assert token.user == regular_user and token.user_obj.username == "alice"
    assert alices.core_tokens_retrieve("alice-ci") == token
    assert [found.identifier for found in alices.core_tokens_list().results] == [
        found.identifier for found in admins.core_tokens_list().results
        if found.user == regular_user]
    alices.core_tokens_destroy("alice-ci")
    with pytest.raises(NotFoundException):
        alices.core_tokens_retrieve("alice-ci")


def test_who_may_call_what(live, user_api):
    with pytest.raises(ForbiddenException):
        EventsApi(user_api).events_events_list()
    for anonymous in _api(live, None):
        with pytest.raises(UnauthorizedException) as refused:
            EventsApi(anonymous).events_events_list()
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
