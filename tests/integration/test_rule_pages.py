"""Events > Notification Rules: the list, one-page create and edit with inline bindings, the
preview (before saving, exactly what the engine would match, writing nothing), field errors."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.factories import make_event, make_group, make_rule, make_transport, make_user
from tests.helpers import post_form
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import (
    Event,
    EventMatcherPolicy,
    ExpressionPolicy,
    NotificationRule,
    Policy,
    PolicyBinding,
    RuleHourStats,
)
from webapp.policies import rule_result

RULE = {"name": "Failed logins", "severity": "warning", "policy_engine_mode": "any",
        "enabled": "y", "throttle_minutes": "0", "throttle_key": "{{ event.action }}",
        "destination_group_id": "0"}


def matcher_row(index: int = 0, **fields: str) -> dict[str, str]:
    row = {"kind": "matcher", "enabled": "y", "order": str(index), "timeout": "30", **fields}
    return {f"bindings-{index}-{name}": value for name, value in row.items()}


def row(index: int, kind: str, **fields: str) -> dict[str, str]:
    values = {"kind": kind, "enabled": "y", "order": str(index), "timeout": "30", **fields}
    return {f"bindings-{index}-{name}": value for name, value in values.items()}


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Event, NotificationRule, Policy, PolicyBinding)}


@pytest.fixture
def failed_logins(app):
    with app.app_context():
        for name in ("root", "admin", "oracle"):
            make_event("login_failed", username=name)
        make_event("login")
        make_event("model_updated")


def test_the_list_shows_each_rule_with_its_statistics(app, admin_client):
    with app.app_context():
        group = make_group("ops")
        rule = make_rule("Failed logins", transports=(make_transport("hook"),), group=group,
                         destination_event_user=True)
        db.session.add(RuleHourStats(rule_id=rule.id, hour=utcnow().replace(
            minute=0, second=0, microsecond=0), matched=7, suppressed=3))
        db.session.commit()

    page = admin_client.get("/events/rules/")

    assert page.status_code == 200
    table = page.text[page.text.index('id="rule-table"'):]
    for text in ("Failed logins", "ops", "the event's user", "hook", ">7<", ">3<"):
        assert text in table


def test_a_rule_is_created_with_a_new_event_matcher_in_one_post(app, admin_client):
    with app.app_context():
        transport_id = make_transport("hook").id

    response = post_form(admin_client, "/events/rules/new",
                         {**RULE, "transports": str(transport_id),
                          **matcher_row(0, action="login_failed")})

    assert response.status_code == 302, response.text
    with app.app_context():
        rule = db.session.scalar(sa.select(NotificationRule))
        assert rule.name == "Failed logins" and rule.severity == "warning"
        assert [t.name for t in rule.transports] == ["hook"]
        [binding] = rule.bindings
        assert isinstance(binding.policy, EventMatcherPolicy)
        assert binding.policy.action == "login_failed"
        assert binding.policy.name == "Failed logins: login_failed"
        assert response.location.endswith(f"/events/rules/{rule.id}")


def test_edit_keeps_updates_and_removes_bindings(app, admin_client):
    with app.app_context():
        rule = make_rule("r", actions=("login_failed", "login"))
        group_id = make_group("ops").num_pk
        make_user("carol")
        first, second = rule.bindings
        rule_id, keep_id, policy_id = rule.id, first.id, first.policy_id
        dropped_id, dropped_policy_id = second.id, second.policy_id

    response = post_form(admin_client, f"/events/rules/{rule_id}", {
        **RULE, "name": "r",
        **row(0, "policy", binding_id=str(keep_id), policy_id=str(policy_id), negate="y",
              order="5"),
        **row(1, "group", group_id=str(group_id)),
        **row(2, "user", username="Carol")})

    assert response.status_code == 302, response.text
    with app.app_context():
        rule = db.session.get(NotificationRule, rule_id)
        kept, by_group, by_user = sorted(rule.bindings, key=lambda b: b.id)
        assert kept.id == keep_id and kept.negate and kept.order == 5
        assert by_group.group.name == "ops" and by_user.user.username == "carol"
        assert db.session.get(PolicyBinding, dropped_id) is None
        assert db.session.get(Policy, dropped_policy_id) is not None  # unbound, not deleted


def test_the_edit_page_shows_saved_bindings_as_rows(app, admin_client):
    with app.app_context():
        rule_id = make_rule("r", actions=("login_failed",)).id

    page = admin_client.get(f"/events/rules/{rule_id}")

    assert page.status_code == 200
    assert 'name="bindings-0-policy_id"' in page.text
    assert re.search(r'<option selected value="\d+">r-match-login_failed</option>', page.text)


def test_adding_and_removing_rows_keeps_what_was_typed_and_saves_nothing(app, admin_client):
    data = {**RULE, **matcher_row(0, client_ip="10.0.0.0/8")}
    with app.app_context():
        before = counts()

    added = post_form(admin_client, "/events/rules/new", {**data, "intent": "add:group"},
                      headers={"HX-Request": "true"})
    removed = post_form(admin_client, "/events/rules/new", {**data, "intent": "remove:0"},
                        headers={"HX-Request": "true"})

    assert added.status_code == 200 and added.text.lstrip().startswith("{#") is False
    assert 'id="bindings"' in added.text and "<html" not in added.text
    assert 'value="10.0.0.0/8"' in added.text and 'name="bindings-1-group_id"' in added.text
    assert 'id="no-bindings"' in removed.text
    with app.app_context():
        assert counts() == before


def test_the_preview_of_an_unsaved_rule_matches_what_the_saved_rule_matches(
        app, admin_client, failed_logins):
    with app.app_context():
        record("login_failed", {"username": "carol"}, user=make_user("carol"), app="tests")
        db.session.commit()
    data = {**RULE, **matcher_row(0, action="login_failed"),
            **row(1, "user", username="carol", negate="y")}
    data["policy_engine_mode"] = "all"
    with app.app_context():
        before = counts()

    shown = post_form(admin_client, "/events/rules/new", {**data, "intent": "preview"},
                      headers={"HX-Request": "true"})

    assert shown.status_code == 200 and "<html" not in shown.text
    with app.app_context():
        assert counts() == before
    listed = set(re.findall(r'href="/events/([0-9a-f-]{36})"', shown.text))
    assert 'id="preview-count">3<' in shown.text

    assert post_form(admin_client, "/events/rules/new", data).status_code == 302
    with app.app_context():
        rule = db.session.scalar(sa.select(NotificationRule))
        expected = {str(e.event_uuid) for e in db.session.scalars(sa.select(Event))
                    if rule_result(rule, e).passing}
    assert listed == expected and len(expected) == 3


def test_the_preview_reports_policy_errors_and_records_no_policy_exception(app, admin_client,
                                                                          failed_logins):
    with app.app_context():
        policy = ExpressionPolicy(name="broken", expression="event.context.x.y + 1")
        db.session.add(policy)
        db.session.commit()
        policy_id, before = policy.id, counts()

    shown = post_form(admin_client, "/events/rules/new",
                      {**RULE, **row(0, "policy", policy_id=str(policy_id)),
                       "intent": "preview"}, headers={"HX-Request": "true"})

    assert 'id="preview-messages"' in shown.text and "policy broken" in shown.text
    assert 'id="preview-count">0<' in shown.text
    with app.app_context():
        assert counts() == before


def test_a_preview_of_invalid_bindings_says_what_to_fix(admin_client):
    shown = post_form(admin_client, "/events/rules/new",
                      {**RULE, "name": "", **row(0, "group", group_id="999"),
                       "intent": "preview"}, headers={"HX-Request": "true"})

    assert 'id="preview-problems"' in shown.text
    assert "Binding 1 · Group: That group does not exist." in shown.text
    assert "Name:" not in shown.text


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"destination_group_id": "999"}, "destination_group_id", "That group does not exist"),
    ({"throttle_minutes": "-5"}, "throttle_minutes", "Enter minutes between 0"),
    ({"throttle_key": "{{ event.action | nosuchfilter }}"}, "throttle_key",
     "This template does not render"),
    ({"throttle_key": "{{ event.__class__ }}"}, "throttle_key", "not allowed"),
    ({"transports": "12345"}, "transports", "one of those does not exist"),
    ({"name": ""}, "name", "This field is required"),
    (row(0, "group", group_id="999"), "bindings-0-group_id", "That group does not exist"),
    (row(0, "user", username="nobody"), "bindings-0-username", "No user named &#39;nobody&#39;"),
    (row(0, "policy", policy_id="x"), "bindings-0-policy_id", "That policy does not exist"),
    (matcher_row(0, client_ip="10.0.0.300/8"), "bindings-0-client_ip", ""),
    (matcher_row(0), "bindings-0-action", "Set at least one criterion"),
    (matcher_row(0, model="nodot"), "bindings-0-model", "Enter the model as app.model_name"),
    (matcher_row(0, action="login", timeout="0"), "bindings-0-timeout", "between 1 and 300"),
    (row(0, "weird"), "bindings-0-kind", "Unknown binding kind"),
])
def test_bad_input_is_answered_next_to_its_field(app, admin_client, changes, field, message):
    response = post_form(admin_client, "/events/rules/new", {**RULE, **changes})

    assert response.status_code == 200
    errors = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', response.text, re.S) or \
        re.search(r'id="bindings-0-kind".*?text-danger small">(.*?)</span>', response.text, re.S)
    assert errors, response.text
    assert message in errors.group(1)
    with app.app_context():
        assert counts()["NotificationRule"] == 0


def test_a_duplicate_name_is_refused(app, admin_client):
    with app.app_context():
        make_rule("Failed logins")

    response = post_form(admin_client, "/events/rules/new", RULE)

    assert "A rule named &#39;Failed logins&#39; already exists." in response.text


def test_delete_asks_then_deletes(app, admin_client):
    with app.app_context():
        rule_id = make_rule("r").id

    assert "Delete rule “r”?" in admin_client.get(f"/events/rules/{rule_id}/delete").text
    assert post_form(admin_client, f"/events/rules/{rule_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(NotificationRule, rule_id) is None


@pytest.mark.parametrize("url", ["/events/rules/999", "/events/rules/0/delete",
                                 "/events/rules/99999999999", "/events/rules/abc"])
def test_unknown_rules_are_not_found(admin_client, url):
    assert admin_client.get(url).status_code == 404


def test_regular_users_cannot_see_rules(user_client):
    assert user_client.get("/events/rules/").status_code == 403
