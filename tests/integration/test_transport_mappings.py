"""Webhook mappings are checked when saved: rendered against a sample failed login, the body
must be JSON and the headers an object of strings; the preview shows a real event's result."""

from __future__ import annotations

import json

import pytest

from tests.factories import make_event
from webapp.core.extensions import db
from webapp.notifications.mappings import (
    MappingError,
    preview_mapping,
    sample_event,
    validate_mapping,
)

SLACK_LIKE = '{"text": {{ (event.action ~ " from " ~ event.client_ip) | tojson }}}'


def test_a_body_mapping_may_render_any_json(ctx):
    validate_mapping(SLACK_LIKE, "body")
    validate_mapping('[{{ notification.severity | tojson }}, {{ user.pk }}]', "body")


def test_a_headers_mapping_renders_an_object_of_strings(ctx):
    validate_mapping('{"Authorization": "Bearer abc", "X-User": "{{ user.username }}"}',
                     "headers")


@pytest.mark.parametrize(("purpose", "expression", "says"), [
    ("body", "{{ event.action }}", "the body mapping must render JSON, but line 1 column 1: "
                                   "Expecting value (wrap values with the tojson filter"),
    ("body", '{"a": {{ event.context.username }}}', "must render JSON"),
    ("body", "{% for %}", "the body mapping does not render: line 1:"),
    ("body", "{{ ().__class__.__mro__ }}", "does not render: line 1: access to '__"),
    ("body", "{{ range(10**9) | list }}", "does not render"),
    ("headers", '"Bearer x"', "the headers mapping must render a JSON object, not str"),
    ("headers", '{"X-Count": 3}', "header 'X-Count' must be a string, not int"),
    ("headers", '{"Bad Name": "x"}', "header name 'Bad Name' is not a valid HTTP header name"),
    ("headers", '{"X-Split": "a\\r\\nX-Injected: b"}', "contains a line break"),
    ("body", "{{ '[' * 100000 }}{{ ']' * 100000 }}", "the body mapping renders JSON nested too"),
])
def test_a_mapping_that_renders_the_wrong_thing_is_refused(ctx, purpose, expression, says):
    with pytest.raises(MappingError) as caught:
        validate_mapping(expression, purpose)

    assert says in str(caught.value)


def test_the_sample_is_a_realistic_failed_login_that_is_never_saved(ctx):
    event = sample_event()

    assert event.action == "login_failed"
    assert event.context["username"] and event.context["geo"]["city"]
    assert event not in db.session


def test_the_preview_renders_a_real_event_as_indented_json(ctx):
    event = make_event("login_failed", username="jdoe")
    event.client_ip = "198.51.100.4"

    preview = preview_mapping(SLACK_LIKE, "body", event)

    assert preview == json.dumps({"text": "login_failed from 198.51.100.4"}, indent=2)
