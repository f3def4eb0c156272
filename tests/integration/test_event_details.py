"""Per-action details: the fragment Logs' rows and the Overview load, and the event page body.

Each renderer is checked through the real route on the real database; odd context (wrong
types, missing keys, huge values, deleted users) must render, never fail.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests.factories import make_event, make_user
from tests.helpers import counted_statements
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.renderers import _REGISTRY, FALLBACK, details_for, renderer_for
from webapp.models import Event, User

GROUP = {"pk": "5f0c", "app": "herald", "name": "admins", "model_name": "group"}
LONDON = {"continent": "EU", "country": "GB", "lat": 51.5, "long": -0.12, "city": "London"}
ASN = {"asn": 15169, "as_org": "Google LLC", "network": "81.2.69.0/24"}
REQUEST = {"path": "/auth/login", "method": "POST", "args": {"next": "/settings/"},
           "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", "request_id": "r1"}


def details(client, event_id: str) -> str:
    response = client.get(f"/events/{event_id}/details")
    assert response.status_code == 200, response.text
    return response.text


def event_id(app, action: str, **context: Any) -> str:
    with app.app_context():
        return make_event(action, **context).pk


def text_of(html: str) -> str:
    """The fragment's text with tags dropped and whitespace folded, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --- the registry ---------------------------------------------------------------------------

def test_each_kind_has_its_own_partial_and_anything_else_falls_back():
    assert renderer_for("model_updated").template == "events/details/model_change.html"
    assert renderer_for("login_failed") is renderer_for("login")
    assert renderer_for("policy_exception").template == "events/details/failure.html"
    assert renderer_for("custom_invoice_paid") is FALLBACK
    assert renderer_for("") is FALLBACK
    assert FALLBACK.template == "events/details/context.html"


# --- model changes --------------------------------------------------------------------------

def test_a_model_change_shows_the_object_and_a_field_previous_new_table(app, admin_client):
    diff = {"email": {"previous_value": "dana@example.com", "new_value": "scully@example.com"},
            "is_active": {"previous_value": True, "new_value": False}}
    html = details(admin_client, event_id(app, "model_updated", diff=diff, model={
        "pk": 7, "app": "herald", "name": "dana", "model_name": "user"}))
    assert "Affected object" in html and "herald · user" in html
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>\s*<td[^>]*><code[^>]*>(.*?)</code>"
                      r"</td>\s*<td[^>]*><code[^>]*>(.*?)</code></td>", html)
    assert rows == [("email", "&#34;dana@example.com&#34;", "&#34;scully@example.com&#34;"),
                    ("is_active", "true", "false")]
    assert "<th scope=\"col\" class=\"w-25\">Field</th><th scope=\"col\">Previous</th>" in html


def test_membership_changes_name_users_each_verb_on_its_own_row(app, admin_client):
    with app.app_context():
        alice, bob = make_user("alice").id, make_user("bob").id
        gone = make_user("carol").id
        db.session.delete(db.session.get(User, gone))
        db.session.commit()
        added = make_event("model_updated", model=GROUP,
                           diff={"users": {"add": [alice, gone], "remove": [bob]}}).pk
        cleared = make_event("model_updated", model=GROUP, diff={"users": {"clear": True}}).pk
    html = details(admin_client, added)
    membership = re.findall(r'<tr class="herald-membership">(.*?)</tr>', html, re.S)
    assert [text_of(row) for row in membership] == [
        f"users added alice, user #{gone} (deleted)", "users removed bob"]
    assert f">{alice}<" not in html  # names, not bare pks
    (row,) = re.findall(r'<tr class="herald-membership">(.*?)</tr>', details(admin_client,
                                                                             cleared), re.S)
    assert text_of(row) == "users cleared"


def test_usernames_for_every_membership_pk_come_from_one_query(app):
    with app.app_context():
        pks = [make_user(name).id for name in ("u1", "u2", "u3")]
        event = make_event("model_updated", model=GROUP,
                           diff={"users": {"add": pks[:2], "remove": [pks[2], 99]}})
        db.session.expire_all()
        event = db.session.get(Event, event.event_uuid)
        with counted_statements() as statements:
            data = details_for(event).data
    user_queries = [s for s in statements if "FROM users" in s]
    assert len(user_queries) == 1
    assert [row.members for row in data["rows"]] == [["u1", "u2"], ["u3", "user #99 (deleted)"]]


def test_a_change_without_a_diff_still_names_its_object(app, admin_client):
    html = details(admin_client, event_id(app, "model_deleted", model=GROUP))
    assert "admins" in html and "herald · group" in html and "<table" not in html


# --- sign-ins -------------------------------------------------------------------------------

def test_a_failed_sign_in_shows_the_username_tried_agent_place_and_network(app, admin_client):
    with app.app_context():
        event = record("login_failed", {"username": "mallory", "geo": LONDON, "asn": ASN,
                                        "http_request": REQUEST},
                       user={"username": "AnonymousUser", "is_anonymous": True},
                       client_ip="81.2.69.160", app="tests")
        db.session.commit()
        pk = event.pk
    html = details(admin_client, pk)
    assert "Attempted to sign in as <strong>mallory</strong>" in html
    text = text_of(html)
    for expected in ("81.2.69.160", "London, GB, EU", "51.5, -0.12", "AS15169 Google LLC",
                     "81.2.69.0/24", "Firefox/125.0", "POST /auth/login"):
        assert expected in text
    assert "AnonymousUser" not in text


def test_a_sign_in_shows_the_user_and_auth_method(app, admin_client, admin):
    with app.app_context():
        event = record("login", {"auth_method": "password"}, user=db.session.get(User, admin),
                       app="tests")
        db.session.commit()
        pk = event.pk
    text = text_of(details(admin_client, pk))
    assert "User admin" in text and "Auth method password" in text
    assert "Attempted" not in text


# --- errors and the rest --------------------------------------------------------------------

def test_an_exception_shows_message_and_traceback_as_preformatted_text(app, admin_client):
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: <bad>\n'
    html = details(admin_client, event_id(app, "system_task_exception", message="Job failed",
                                          exception=trace))
    assert "Job failed" in html
    pre = re.search(r'<pre [^>]*role="region" aria-label="Traceback" tabindex="0"[^>]*>'
                    r"<code>(.*?)</code></pre>", html, re.S)
    assert pre and pre.group(1) == str(escape(trace))


def test_a_suspicious_request_shows_the_reason_and_the_request(app, admin_client):
    html = details(admin_client, event_id(app, "suspicious_request", reason="csrf",
                                          message="The CSRF token is missing.",
                                          http_request=REQUEST))
    text = text_of(html)
    assert "Reason csrf" in text and "The CSRF token is missing." in text
    assert "POST /auth/login" in text and "next /settings/" in text


def test_an_email_shows_recipient_subject_and_a_bounded_body_preview(app, admin_client):
    html = details(admin_client, event_id(app, "email_sent", to_email=["ops@example.com"],
                                          subject="Herald alert", body="<b>Hi</b> " + "x" * 5000))
    text = text_of(html)
    assert "To ops@example.com" in text and "Subject Herald alert" in text
    assert "&lt;b&gt;Hi&lt;/b&gt;" in html and "<b>Hi</b>" not in html  # text, never HTML
    assert "x" * 990 in html and "x" * 1001 not in html and "…" in html


def test_a_configuration_error_shows_its_message(app, admin_client):
    text = text_of(details(admin_client, event_id(
        app, "configuration_error", message="SMTP host is not set", setting="HERALD_MAIL_HOST")))
    assert "Message SMTP host is not set" in text and "setting HERALD_MAIL_HOST" in text


def test_other_actions_show_their_context_as_a_nested_key_value_table(app, admin_client):
    html = details(admin_client, event_id(
        app, "custom_invoice_paid", invoice="INV-1", amount=19.5,
        lines=[{"sku": "A-1", "qty": 2}], deep={"a": {"b": {"c": {"d": {"e": 1}}}}},
        wide={f"k{n:02}": n for n in range(60)}))
    assert '<th scope="col" class="w-25">Key</th><th scope="col">Value</th>' in html
    assert re.search(r'<th scope="row">invoice</th><td><span[^>]*>INV-1</span>', html)
    lines = re.search(r'<th scope="row">lines</th><td>(.*?)</td></tr>', html, re.S).group(1)
    assert text_of(lines) == "#0 qty 2 sku A-1"
    assert lines.count("<dl") == 2  # a list holding an object: two nested levels
    assert "{&#34;e&#34;: 1}" in html  # past the depth limit, shown as JSON
    assert "10 more not shown" in html and "k49" in html and "k50" not in html


def test_an_event_without_context_says_so(app, admin_client):
    assert "This event has no context." in details(admin_client, event_id(app, "custom_ping"))


# --- odd data never fails -------------------------------------------------------------------

ODD_CONTEXTS: list[dict[str, Any]] = [
    {"model": "not a mapping", "diff": ["a", "list"]},
    {"model": {"name": {"nested": True}, "pk": [1]}, "diff": {"users": {"add": "7"}}},
    {"diff": {"users": {"add": [True, None, {"a": 1}, "abc", 10**30, -1, "12"],
                        "remove": {"x": 1}, "clear": "yes"}, "f": None, "g": "plain"}},
    {"diff": {"users": {}}, "geo": [1, 2], "asn": "AS1", "http_request": "GET /"},
    {"geo": {"lat": "north", "long": None, "city": {"x": 1}}, "asn": {"asn": [1]},
     "http_request": {"path": None, "args": "a=1", "method": 5}},
    {"username": {"tried": "x"}, "auth_method": ["pw"], "exception": {"frames": [1, 2]}},
    {"message": None, "reason": {"a": [1]}, "to_email": {"x": 1}, "body": ["a", {"b": 2}]},
    {"message": "m" * 200_000, "exception": "t" * 200_000, "body": "b" * 200_000},
    {"k" * 5000: "v" * 5000, "": "", "list": list(range(1000))},
]
ACTIONS = [*sorted(_REGISTRY), "custom_odd"]


@pytest.mark.parametrize("context", ODD_CONTEXTS)
def test_odd_context_renders_for_every_action(app, admin_client, context):
    with app.app_context():
        ids = [make_event(action, **context).pk for action in ACTIONS]
    for pk in ids:
        assert admin_client.get(f"/events/{pk}/details").status_code == 200
        page = admin_client.get(f"/events/{pk}")
        assert page.status_code == 200
        assert len(page.text) < 400_000  # huge values are cut, not echoed


@pytest.mark.parametrize("raw", [[1, {"a": 2}], "just text", 42, None, {}])
def test_a_context_that_is_not_an_object_still_renders(app, admin_client, raw):
    with app.app_context():
        events = [make_event(action) for action in ACTIONS]
        for event in events:
            event.context = raw
        db.session.commit()
        ids = [event.pk for event in events]
    for pk in ids:
        assert admin_client.get(f"/events/{pk}/details").status_code == 200
        assert admin_client.get(f"/events/{pk}").status_code == 200


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["model", "diff", "users", "add", "remove", "clear",
                                       "previous_value", "new_value", "geo", "asn", "lat",
                                       "http_request", "args", "message", "exception",
                                       "username", "to_email", "body", "x"]),
                      children, max_size=5),
    max_leaves=20)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(ACTIONS), context=JSON)
def test_any_json_context_renders_with_every_renderer(app, action, context):
    event = Event(event_uuid=uuid.uuid4(), action=action, context=context, user={},
                  app="tests")
    with app.test_request_context():
        details = details_for(event)
        render_template("events/_details.html", details=details, ids="event-x")


# --- the route ------------------------------------------------------------------------------

def test_the_fragment_is_only_the_details_with_a_link_to_the_event_page(app, admin_client):
    pk = event_id(app, "model_updated", model=GROUP,
                  diff={"name": {"previous_value": "a", "new_value": "b"}})
    html = details(admin_client, pk)
    assert "<html" not in html and "<tr>" not in html.split("<table", 1)[0]
    assert not html.lstrip().startswith("<tr")
    assert f'href="/events/{pk}"' in html and "Open event page" in html
    assert f'id="event-{uuid.UUID(pk).hex}-diff"' in html  # ids stay unique per open row


def test_the_event_page_uses_the_same_renderer_then_the_raw_json(app, admin_client):
    pk = event_id(app, "model_updated", model=GROUP,
                  diff={"name": {"previous_value": "a", "new_value": "b"}})
    page = admin_client.get(f"/events/{pk}").text
    assert page.index('id="event-diff"') < page.index('id="event-json"')
    assert re.search(r'<pre class="herald-json" role="region" aria-labelledby="raw-heading" '
                     r'tabindex="0" id="event-json">', page)


@pytest.mark.parametrize("bad", [str(uuid.uuid4()), "not-a-uuid", "1", "x" * 500,
                                 "00000000-0000-0000-0000-00000000000g"])
def test_unknown_or_malformed_ids_are_not_found(admin_client, bad):
    for url in (f"/events/{bad}/details", f"/events/{bad}"):
        response = admin_client.get(url)
        assert response.status_code == 404
        assert "No event with that id exists" in response.text


def test_the_fragment_is_for_administrators_only(app, client, user_client):
    pk = event_id(app, "login")
    assert user_client.get(f"/events/{pk}/details").status_code == 403
    user_client.get("/auth/logout")
    anonymous = app.test_client().get(f"/events/{pk}/details")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
