"""Events > Notification Transports: the list with delivery health, the form whose fields follow
the mode, deleting, and the Test button against real receivers on 127.0.0.1."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.factories import make_rule, make_transport
from tests.helpers import csrf_token, post_form
from tests.integration.directory_helpers import ask_then_confirm, stored
from tests.integration.receivers import (
    HttpReceiver,
    Reply,
    SmtpReceiver,
    free_port,
    http_receiver,
    make_tls_files,
    smtp_receiver,
)
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Delivery, Notification, NotificationTransport, WebhookMapping
from webapp.notifications.transport_admin import transport_rows

NEW = "/events/transports/new"
SECRET = "whsec-do-not-show-me-42"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


@pytest.fixture
def smtp(app) -> Iterator[SmtpReceiver]:
    with smtp_receiver() as server:
        app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=server.port,
                          MAIL_FROM="Herald <herald@example.com>")
        yield server


def fields(**overrides: str) -> dict[str, str]:
    """What the browser sends for a webhook transport, changed by `overrides`."""
    return {"name": "ops-hook", "mode": "webhook", "webhook_url": "https://hooks.example.com/h",
            "verify_tls": "y", "webhook_mapping_body_id": "0", "webhook_mapping_headers_id": "0",
            "email_subject_prefix": "Herald: ", "email_template": "email/event_notification.html",
            **overrides}


def field_errors(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</div>\s*</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>|\s+", " ", match.group(1))).strip() if match else ""


def press_test(client: FlaskClient, transport_id: int):
    return client.post(f"/events/transports/{transport_id}/test",
                       headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client)})


def test_create_edit_and_delete_through_the_forms(app, admin_client):
    created = post_form(admin_client, NEW, fields(signing_secret=SECRET))
    assert created.status_code == 302
    with app.app_context():
        hook = stored(NotificationTransport, name="ops-hook")
        assert (hook.mode, hook.webhook_url, hook.signing_secret) == (
            "webhook", "https://hooks.example.com/h", SECRET)
        db.session.add(Delivery(transport_id=hook.id, transport_name=hook.name,
                                severity="notice", body="b", status="sent"))
        db.session.commit()
        hook_id = hook.id

    edited = post_form(admin_client, f"/events/transports/{hook_id}",
                       fields(name="ops-hook-2", webhook_url="http://10.0.0.5:8080/in"))
    assert edited.status_code == 302
    question, answer = ask_then_confirm(admin_client, f"/events/transports/{hook_id}/delete")

    assert "stay in the ledger" in question and "Deleted transport ops-hook-2" in answer
    with app.app_context():
        assert stored(NotificationTransport, id=hook_id) is None
        delivery = db.session.scalar(sa.select(Delivery))
        assert (delivery.transport_id, delivery.transport_name) == (None, "ops-hook")


def test_deleting_a_transport_used_by_a_rule_keeps_the_rule(app, admin_client):
    with app.app_context():
        hook = make_transport("hook")
        make_rule("alerts", transports=(hook,))
        hook_id = hook.id

    question, _answer = ask_then_confirm(admin_client, f"/events/transports/{hook_id}/delete")

    assert "1 notification rule(s) stop sending through it" in question
    with app.app_context():
        assert stored(NotificationTransport, id=hook_id) is None
        assert db.session.scalar(sa.text("SELECT count(*) FROM notification_rules")) == 1


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"webhook_url": "ftp://files.example.com/x"}, "webhook_url", "must start with http"),
    ({"webhook_url": "javascript:alert(1)"}, "webhook_url", "must start with http"),
    ({"webhook_url": "https:///no-host"}, "webhook_url", "needs a host name"),
    ({"webhook_url": "http://host:port/"}, "webhook_url", "not a valid URL"),
    ({"webhook_url": ""}, "webhook_url", "Enter the receiver's URL"),
    ({"mode": "webhook_slack", "webhook_url": "slack.com/x"}, "webhook_url", "http"),
    ({"name": ""}, "name", "This field is required"),
    ({"name": "x" * 151}, "name", "150"),
    ({"mode": "carrier-pigeon"}, "mode", "Not a valid choice"),
    ({"ca_bundle": "not a certificate"}, "ca_bundle", "PEM certificates"),
    ({"ca_bundle": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
     "ca_bundle", "Certificate 1 is not a valid PEM certificate"),
    ({"webhook_mapping_body_id": "999"}, "webhook_mapping_body_id", "Choose a mapping"),
    ({"webhook_mapping_headers_id": "abc"}, "webhook_mapping_headers_id", "Invalid Choice"),
    ({"mode": "email", "email_template": "auth/login.html"}, "email_template", "Choose a template"),
])
def test_bad_input_is_answered_next_to_its_field(app, admin_client, overrides, field, message):
    response = post_form(admin_client, NEW, fields(**overrides))

    assert response.status_code == 400
    assert message in field_errors(response.text, field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(NotificationTransport.id))) == 0


def test_a_duplicate_name_is_refused_whatever_its_case(app, admin_client):
    with app.app_context():
        make_transport("Ops-Hook", webhook_url="https://a.example.com/")

    response = post_form(admin_client, NEW, fields(name="ops-hook"))

    assert response.status_code == 400
    assert "already exists" in field_errors(response.text, "name")


def test_a_valid_ca_bundle_is_kept(app, admin_client, tmp_path):
    pem = make_tls_files(tmp_path).ca_pem.read_text()

    assert post_form(admin_client, NEW, fields(ca_bundle=pem)).status_code == 302
    with app.app_context():
        assert stored(NotificationTransport, name="ops-hook").ca_bundle == pem.strip()


def test_fields_the_mode_does_not_read_are_ignored_and_cleared(app, admin_client):
    """A local transport ignores a bad URL and PEM; switching a webhook to email drops its
    URL and secret, so nothing forgotten lingers in the row."""
    local = post_form(admin_client, NEW, fields(name="bell", mode="local",
                                                webhook_url="javascript:alert(1)",
                                                ca_bundle="junk", send_once="y"))
    assert local.status_code == 302
    post_form(admin_client, NEW, fields(signing_secret=SECRET))
    with app.app_context():
        bell = stored(NotificationTransport, name="bell")
        assert (bell.webhook_url, bell.ca_bundle, bell.send_once) == ("", "", False)
        hook_id = stored(NotificationTransport, name="ops-hook").id

    post_form(admin_client, f"/events/transports/{hook_id}", fields(mode="email"))

    with app.app_context():
        hook = stored(NotificationTransport, id=hook_id)
        assert (hook.mode, hook.webhook_url, hook.signing_secret) == ("email", "", "")
        assert hook.email_subject_prefix == "Herald: "


def test_the_page_hides_what_the_mode_does_not_read(app, admin_client):
    with app.app_context():
        bell_id = make_transport("bell", mode="local").id

    page = admin_client.get(f"/events/transports/{bell_id}").text

    url_box = re.search(r'<div data-modes="([^"]*)"( hidden)?>\s*<div class="mb-3">\s*'
                        r'<label[^>]*for="webhook_url"', page)
    assert url_box.group(1) == "webhook webhook_slack" and url_box.group(2) == " hidden"
    assert "js/transport-form.js" in page


def test_the_signing_secret_is_never_shown_back(app, admin_client):
    post_form(admin_client, NEW, fields(signing_secret=SECRET))
    with app.app_context():
        hook_id = stored(NotificationTransport, name="ops-hook").id
    url = f"/events/transports/{hook_id}"

    refused = post_form(admin_client, url, fields(signing_secret=SECRET, webhook_url="ftp://x"))
    pages = [admin_client.get(url).text, admin_client.get("/events/transports/").text,
             refused.text]
    kept = post_form(admin_client, url, fields(signing_secret=""))

    assert all(SECRET not in page for page in pages)
    assert "A secret is set — leave blank to keep it" in pages[0]
    assert kept.status_code == 302
    with app.app_context():
        assert stored(NotificationTransport, id=hook_id).signing_secret == SECRET
    post_form(admin_client, url, fields(clear_signing_secret="y"))
    with app.app_context():
        assert stored(NotificationTransport, id=hook_id).signing_secret == ""


def test_the_list_shows_host_last_delivery_and_success_rate(app, admin_client):
    now = utcnow()
    with app.app_context():
        slack = make_transport("slack", mode="webhook_slack",
                               webhook_url="https://hooks.slack.com:8443/services/T0/B0/tok3n")
        make_transport("bell", mode="local")
        for status, age in (("sent", 1), ("sent", 2), ("failed", 3), ("dead", 30),
                            ("queued", 0)):
            db.session.add(Delivery(transport_id=slack.id, transport_name="slack",
                                    severity="notice", body="b", status=status,
                                    created=now - timedelta(hours=age),
                                    updated=now - timedelta(hours=age)))
        db.session.commit()
        rows = {row.transport.name: row for row in transport_rows(now)}

    assert (rows["slack"].host, rows["slack"].last_status) == ("hooks.slack.com:8443", "queued")
    assert (rows["slack"].sent_24h, rows["slack"].finished_24h) == (2, 3)
    assert rows["bell"].success_rate is None and rows["bell"].last_status is None
    page = admin_client.get("/events/transports/").text
    assert "hooks.slack.com:8443" in page and "tok3n" not in page and "services" not in page
    assert "67%" in page and "never used" in page


def test_the_empty_list_invites_to_create_one(admin_client):
    page = admin_client.get("/events/transports/").text

    assert "No transports yet." in page and "Create the first transport" in page


def test_test_button_shows_the_receivers_answer(app, admin_client, receiver: HttpReceiver):
    receiver.reply_with(Reply(200, b'{"accepted": true}'))
    with app.app_context():
        hook_id = make_transport("hook", webhook_url=receiver.url).id

    response = press_test(admin_client, hook_id)

    assert response.status_code == 200
    assert 'data-test="status">HTTP 200<' in response.text
    assert re.search(r'data-test="latency">\d+ ms<', response.text)
    assert "{&#34;accepted&#34;: true}" in response.text
    body = receiver.wait_for(1)[0].json()
    assert body["body"] == "Test notification from transport hook"
    assert body["user_username"] == "admin" and body["event"]["action"] == "custom_transport_test"


def test_test_button_shows_a_receivers_error(app, admin_client, receiver: HttpReceiver):
    receiver.reply_with(Reply(500, b"database on fire"))
    with app.app_context():
        hook_id = make_transport("hook", webhook_url=receiver.url).id

    response = press_test(admin_client, hook_id)

    assert response.status_code == 200
    assert "alert-danger" in response.text and "answered HTTP 500" in response.text
    assert "database on fire" in response.text


def test_test_button_explains_an_unreachable_receiver(app, admin_client):
    port = free_port()
    with app.app_context():
        hook_id = make_transport("hook", webhook_url=f"http://127.0.0.1:{port}/hook").id

    response = press_test(admin_client, hook_id)

    assert response.status_code == 200
    assert f"could not send to http://127.0.0.1:{port}" in response.text
    assert "/hook" not in re.sub(r'hx-post="[^"]*"', "", response.text)


def test_test_button_sends_an_email(app, admin_client, smtp: SmtpReceiver):
    with app.app_context():
        mail_id = make_transport("mail", mode="email").id

    response = press_test(admin_client, mail_id)

    assert "accepted by 127.0.0.1" in response.text and "alert-success" in response.text
    (message,) = smtp.messages
    assert message["To"].addresses[0].addr_spec == "admin@example.com"
    assert "Test notification from transport mail" in message.get_body(("plain",)).get_content()


def test_test_button_without_mail_server_says_so(app, admin_client):
    with app.app_context():
        mail_id = make_transport("mail", mode="email").id

    assert "email is not configured" in press_test(admin_client, mail_id).text


def test_test_button_puts_a_notification_in_the_testers_bell(app, admin_client, admin):
    with app.app_context():
        bell_id = make_transport("bell", mode="local").id

    response = press_test(admin_client, bell_id)

    assert "Added a notification to admin" in response.text
    assert response.headers["HX-Trigger"] == "notifications-changed"
    with app.app_context():
        (note,) = db.session.scalars(sa.select(Notification)).all()
        assert (note.user_id, note.body) == (admin, "Test notification from transport bell")


def test_test_without_htmx_flashes_the_outcome(app, admin_client):
    with app.app_context():
        bell_id = make_transport("bell", mode="local").id

    response = post_form(admin_client, f"/events/transports/{bell_id}/test",
                         follow_redirects=True)

    assert "Test of bell: Added a notification" in response.text


def test_a_mapping_that_stopped_rendering_fails_the_test_cleanly(app, admin_client, receiver):
    with app.app_context():
        broken = WebhookMapping(name="broken", expression="{{ nope(")
        db.session.add(broken)
        db.session.flush()
        hook_id = make_transport("hook", webhook_url=receiver.url,
                                 webhook_mapping_body_id=broken.id).id

    response = press_test(admin_client, hook_id)

    assert response.status_code == 200 and "webhook mapping &#39;broken&#39;" in response.text
    assert receiver.requests == []
