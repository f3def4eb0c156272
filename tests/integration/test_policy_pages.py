"""Customization > Policies: list, create and edit both kinds with field errors, the expression
tester against real events, delete naming the rules that use the policy, 404s."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.factories import make_event, make_rule
from tests.helpers import post_form
from webapp.core.extensions import db
from webapp.models import EventMatcherPolicy, ExpressionPolicy, Policy


def only_policy() -> Policy:
    db.session.expire_all()
    return db.session.scalar(sa.select(Policy))


def field_errors(text: str, field: str) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', text, re.S)
    assert match, text
    return match.group(1)


def test_the_list_shows_type_criteria_and_bound_rules(app, admin_client):
    with app.app_context():
        make_rule("a", actions=("login_failed",))
        db.session.add(ExpressionPolicy(name="root", expression='event.user.username == "root"'))
        db.session.commit()

    page = admin_client.get("/customization/policies/").text

    assert "a-match-login_failed" in page and "Event matcher" in page and "1 rule<" in page
    assert "Expression" in page and "0 rules" in page


def test_the_matcher_form_offers_known_actions_by_category_and_seen_apps_and_models(
        app, admin_client):
    with app.app_context():
        make_event("login_failed")
    page = admin_client.get("/customization/policies/new/event_matcher").text

    assert '<optgroup label="Authentication">' in page and 'value="login_failed"' in page
    assert '<option value="tests">tests</option>' in page


def test_an_event_matcher_is_created_and_edited(app, admin_client):
    created = post_form(admin_client, "/customization/policies/new/event_matcher",
                        {"name": "office", "client_ip": "10.0.0.0/8", "action": "login"})
    assert created.status_code == 302
    with app.app_context():
        policy = only_policy()
        assert isinstance(policy, EventMatcherPolicy)
        assert (policy.action, policy.client_ip) == ("login", "10.0.0.0/8")
        url = f"/customization/policies/{policy.id}"

    edited = {"name": "office", "action": "login_failed", "client_ip": ""}  # as a browser posts
    assert post_form(admin_client, url, edited).status_code == 302
    with app.app_context():
        assert (only_policy().action, only_policy().client_ip) == ("login_failed", None)


def test_an_expression_is_created(app, admin_client):
    response = post_form(admin_client, "/customization/policies/new/expression",
                         {"name": "root", "expression": 'event.user.username == "root"'})

    assert response.status_code == 302
    with app.app_context():
        assert only_policy().expression == 'event.user.username == "root"'


@pytest.mark.parametrize(("kind", "data", "field", "message"), [
    ("event_matcher", {"name": "x", "client_ip": "10.0.0.0/33"}, "client_ip", ""),
    ("event_matcher", {"name": "x", "client_ip": "not-an-ip"}, "client_ip", ""),
    ("event_matcher", {"name": "x", "action": "no_such_action"}, "action",
     "Choose an action from the list."),
    ("event_matcher", {"name": "", "action": "login"}, "name", "This field is required."),
    ("expression", {"name": "x", "expression": "event.action =="}, "expression", "line 1"),
    ("expression", {"name": "x", "expression": "().__class__"}, "expression",
     "&#39;__class__&#39; is not allowed"),
    ("expression", {"name": "x", "expression": ""}, "expression", "This field is required."),
])
def test_bad_input_is_answered_next_to_its_field(app, admin_client, kind, data, field, message):
    response = post_form(admin_client, f"/customization/policies/new/{kind}", data)

    assert response.status_code == 200
    assert message in field_errors(response.text, field)
    with app.app_context():
        assert only_policy() is None


def test_a_matcher_without_criteria_is_refused_for_the_whole_form(app, admin_client):
    response = post_form(admin_client, "/customization/policies/new/event_matcher",
                         {"name": "x"})

    assert 'id="form-errors"' in response.text and "Set at least one criterion" in response.text


def test_a_duplicate_name_is_refused(app, admin_client):
    with app.app_context():
        make_rule("a")

    response = post_form(admin_client, "/customization/policies/new/expression",
                         {"name": "A-match-login_failed", "expression": "true"})

    assert "already exists" in field_errors(response.text, "name")


def test_the_tester_runs_an_unsaved_expression_against_a_real_event(app, admin_client):
    with app.app_context():
        event_pk = make_event("login_failed", username="root").pk
        make_event("login")

    page = admin_client.get("/customization/policies/new/expression").text
    assert f'value="{event_pk}"' in page and "login_failed · " in page

    def test(expression: str, event: str = event_pk) -> str:
        return post_form(admin_client, "/customization/policies/test",
                         {"expression": expression, "event": event},
                         headers={"HX-Request": "true"}).text

    assert 'id="test-verdict">true<' in test('event.context.username == "root"')
    assert 'id="test-verdict">false<' in test('event.action == "login"')
    assert " ms" in test("true")
    assert "not allowed" in test("().__class__")
    assert "Write an expression to test." in test("")
    assert "no longer exists" in test("true", "not-a-uuid")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Policy)) == 0


def test_delete_lists_the_rules_that_use_the_policy(app, admin_client):
    with app.app_context():
        rule = make_rule("watch", actions=("login_failed",))
        policy_id = rule.bindings[0].policy_id

    page = admin_client.get(f"/customization/policies/{policy_id}/delete").text
    assert 'id="bound-rules"' in page and ">watch</a>" in page

    assert post_form(admin_client, f"/customization/policies/{policy_id}/delete"
                     ).status_code == 302
    with app.app_context():
        assert db.session.get(Policy, policy_id) is None


@pytest.mark.parametrize("url", ["/customization/policies/999",
                                 "/customization/policies/999/delete",
                                 "/customization/policies/new/nonsense",
                                 "/customization/policies/99999999999"])
def test_unknown_policies_are_not_found(admin_client, url):
    assert admin_client.get(url).status_code == 404
