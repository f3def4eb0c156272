"""Customization > Webhook Mappings: creating, editing and deleting through the forms, the
check on save (for the chosen purpose and every purpose a transport uses it for), and the live
render against the newest event or the sample."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from tests.factories import make_event, make_transport
from tests.helpers import csrf_token, post_form
from tests.integration.directory_helpers import ask_then_confirm, stored
from webapp.core.extensions import db
from webapp.models import Event, NotificationTransport, WebhookMapping

NEW = "/customization/mappings/new"
GOOD = '{"text": {{ notification.body | tojson }}, "action": {{ event.action | tojson }}}'
HEADERS = '{"X-Team": "ops", "X-Action": {{ event.action | tojson }}}'


def field_errors(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>|\s+", " ", match.group(1))).strip() if match else ""


def make_mapping(name: str, expression: str) -> WebhookMapping:
    mapping = WebhookMapping(name=name, expression=expression)
    db.session.add(mapping)
    db.session.commit()
    return mapping


def live(client, expression: str, purpose: str = "body") -> str:
    response = client.post("/customization/mappings/preview",
                           data={"expression": expression, "purpose": purpose},
                           headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client)})
    assert response.status_code == 200
    return html.unescape(response.text)


def test_create_edit_and_delete_through_the_forms(app, admin_client):
    new_page = admin_client.get(NEW).text
    created = post_form(admin_client, NEW, {"name": "slackish", "purpose": "body",
                                            "expression": GOOD})
    assert "tojson" in new_page and created.status_code == 302
    with app.app_context():
        mapping_id = stored(WebhookMapping, name="slackish").id

    edited = post_form(admin_client, f"/customization/mappings/{mapping_id}",
                       {"name": "team-headers", "purpose": "headers", "expression": HEADERS})
    page = admin_client.get(f"/customization/mappings/{mapping_id}").text
    question, answer = ask_then_confirm(admin_client,
                                        f"/customization/mappings/{mapping_id}/delete")

    assert edited.status_code == 302 and "team-headers" in page
    assert "0 transport(s) use it" in question and "Deleted mapping team-headers" in answer
    with app.app_context():
        assert stored(WebhookMapping, id=mapping_id) is None


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": ""}, "name", "This field is required"),
    ({"expression": ""}, "expression", "This field is required"),
    ({"expression": "{{ event.action "}, "expression", "does not render"),
    ({"expression": "{{ event.action }}"}, "expression", "must render JSON"),
    ({"expression": "[1, 2]", "purpose": "headers"}, "expression",
     "must render a JSON object, not list"),
    ({"expression": '{"X-Count": 3}', "purpose": "headers"}, "expression", "must be a string"),
    ({"expression": "x" * 20_001}, "expression", "20000"),
    ({"expression": "[" * 5_000 + "]" * 5_000}, "expression", "nested too deeply"),
    ({"purpose": "footer"}, "purpose", "Not a valid choice"),
])
def test_bad_input_is_answered_next_to_its_field(app, admin_client, data, field, message):
    response = post_form(admin_client, NEW, {"name": "m", "purpose": "body", "expression": GOOD,
                                             **data})

    assert response.status_code == 400
    assert message in field_errors(response.text, field)
    with app.app_context():
        assert stored(WebhookMapping, name="m") is None


def test_a_duplicate_name_is_refused(app, admin_client):
    with app.app_context():
        make_mapping("Team", GOOD)

    response = post_form(admin_client, NEW, {"name": "team", "purpose": "body",
                                             "expression": GOOD})

    assert response.status_code == 400 and "already exists" in field_errors(response.text,
                                                                             "name")


def test_an_edit_cannot_break_a_transport_using_it_as_headers(app, admin_client):
    with app.app_context():
        mapping = make_mapping("hdrs", HEADERS)
        make_transport("hook", webhook_url="https://h.example.com/",
                       webhook_mapping_headers_id=mapping.id)
        mapping_id = mapping.id
    url = f"/customization/mappings/{mapping_id}"

    page = admin_client.get(url).text
    response = post_form(admin_client, url, {"name": "hdrs", "purpose": "body",
                                             "expression": "[1, 2]"})

    assert re.search(r'<option selected value="headers">', page)
    assert response.status_code == 400
    assert "a transport uses it so" in field_errors(response.text, "expression")
    with app.app_context():
        assert stored(WebhookMapping, id=mapping_id).expression == HEADERS
        assert stored(NotificationTransport, name="hook").webhook_mapping_headers_id == mapping_id


def test_live_render_uses_the_sample_when_there_are_no_events(app, admin_client):
    with app.app_context():  # signing in recorded a login
        db.session.execute(sa.delete(Event))
        db.session.commit()

    text = live(admin_client, '{"ip": {{ event.client_ip | tojson }}}')

    assert '"ip": "203.0.113.7"' in text and "sample failed login" in text


def test_live_render_uses_the_newest_event(app, admin_client):
    with app.app_context():
        make_event("login_failed", username="mallory")

    text = live(admin_client, GOOD)

    assert '"action": "login_failed"' in text and "newest event" in text
    assert 'data-preview="json"' in text


def test_live_render_shows_errors_instead_of_failing(admin_client):
    broken = live(admin_client, "{{ event.action ")
    not_json = live(admin_client, "{{ event.action }}")
    wrong_shape = live(admin_client, "[1, 2]", purpose="headers")
    huge = live(admin_client, "x" * 100_000)
    deep = live(admin_client, "[" * 5_000 + "]" * 5_000)

    assert "does not render" in broken and 'data-preview="error"' in broken
    assert "must render JSON" in not_json
    assert "must render a JSON object, not list" in wrong_shape
    assert "at most 20,000 characters" in huge
    assert "nested too deeply" in deep


def test_the_editor_page_renders_the_stored_mapping_at_once(app, admin_client):
    with app.app_context():
        mapping_id = make_mapping("m", GOOD).id

    page = html.unescape(admin_client.get(f"/customization/mappings/{mapping_id}").text)

    assert 'hx-post="/customization/mappings/preview"' in page
    assert 'hx-trigger="input delay:500ms"' in page
    assert '"action": "' in page


def test_the_list_shows_usage_and_the_empty_state(app, admin_client):
    empty = admin_client.get("/customization/mappings/").text
    with app.app_context():
        mapping = make_mapping("body", GOOD)
        make_transport("a", webhook_url="https://a.example.com/",
                       webhook_mapping_body_id=mapping.id)
        make_transport("b", webhook_url="https://b.example.com/",
                       webhook_mapping_headers_id=mapping.id)

    listed = admin_client.get("/customization/mappings/").text

    assert "No webhook mappings yet." in empty
    assert "2 transport(s)" in listed
