"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): authentik's subject, title, body,
key/value table and link, as HTML and plain text, and an `email_sent` event per message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult

from tests.factories import make_user
from tests.integration.receivers import SmtpReceiver, free_port, outgoing, smtp_receiver
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Event, NotificationTransport, TransportMode
from webapp.notifications.transports import TransportError, send

KEY = "c6b8a4e2-0d1f-4f3a-8e5b-2a9c7d6e5f40"


@pytest.fixture
def smtp(app) -> Iterator[SmtpReceiver]:
    with smtp_receiver() as server:
        app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=server.port,
                          MAIL_FROM="Herald <herald@example.com>")
        yield server


def email_transport(**fields) -> NotificationTransport:
    transport = NotificationTransport(name="mail", mode=TransportMode.EMAIL.value, **fields)
    db.session.add(transport)
    db.session.commit()
    return transport


def failed_login() -> Event:
    event = record("login_failed", {"message": "Invalid credentials", "username": "jdoe",
                                    "geo": {"city": "Berlin"}},
                   user={"pk": 5, "username": "bob", "email": "bob@example.com"}, app="tests")
    db.session.commit()
    return event


def sent_events() -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.action == "email_sent")))


def test_the_email_carries_authentiks_content(ctx, smtp: SmtpReceiver):
    event = failed_login()
    carol = make_user("carol", email="carol@example.com", name="Carol Jones")

    result = send(outgoing(email_transport(), event, carol, delivery_key=KEY,
                           hyperlink=f"https://herald.example.com/events/{event.pk}"))

    assert result.status_code is None and result.latency_ms >= 0
    [envelope] = smtp.envelopes
    assert envelope.mail_from == "herald@example.com"
    assert envelope.rcpt_tos == ["carol@example.com"]
    [mail] = smtp.messages
    assert mail["Subject"] == "Herald Notification: login_failed"
    assert mail["To"] == "Carol Jones <carol@example.com>"
    assert mail["X-Herald-Delivery"] == KEY
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    table = [("user_email", "carol@example.com"), ("user_username", "carol"),
             ("event_user_email", "bob@example.com"), ("event_user_username", "bob"),
             ("message", "Invalid credentials"), ("username", "jdoe")]
    assert "\n".join(f"{key}: {value}" for key, value in table) in text
    for key, value in table:
        assert f">{key}</th>" in html and f">{value}</td>" in html
    assert "geo" not in text  # only string values make the table, as in authentik
    assert f'href="https://herald.example.com/events/{event.pk}"' in html
    assert f"View event: https://herald.example.com/events/{event.pk}" in text
    assert text.startswith("login_failed\n\nInvalid credentials\n")


def test_the_queue_s_relative_link_becomes_absolute_with_the_external_url(
        app, ctx, smtp: SmtpReceiver):
    app.config["EXTERNAL_URL"] = "https://herald.example.com/"
    event = failed_login()
    send(outgoing(email_transport(), event, make_user("carol"), hyperlink=f"/events/{event.pk}"))
    [mail] = smtp.messages
    text = mail.get_body(("plain",)).get_content()
    assert f"View event: https://herald.example.com/events/{event.pk}" in text


def test_a_sent_email_is_recorded_as_an_email_sent_event(ctx, smtp: SmtpReceiver):
    send(outgoing(email_transport(), failed_login(), make_user("carol", name="Carol")))
    db.session.commit()  # the delivery queue commits the event with the delivery's outcome

    [sent] = sent_events()
    assert sent.app == "herald.notifications"
    assert sent.context["message"] == "Email to Carol <carol@example.com> sent"
    assert sent.context["subject"] == "Herald Notification: login_failed"
    assert sent.context["from_email"] == "Herald <herald@example.com>"
    assert sent.context["to_email"] == ["Carol <carol@example.com>"]
    assert sent.context["body"] == smtp.messages[0].get_body(("html",)).get_content()


def test_without_an_event_the_subject_is_the_start_of_the_body(ctx, smtp: SmtpReceiver):
    body = "The nightly export finished with warnings:\n" + "see the export page " * 10

    send(outgoing(email_transport(email_subject_prefix="[Herald] "), None, make_user("carol"),
                  body=body))

    assert smtp.messages[0]["Subject"] == "[Herald] " + " ".join(body[:75].split())


def test_administrators_are_told_which_transport_sent_it(ctx, smtp: SmtpReceiver):
    transport = email_transport()
    send(outgoing(transport, failed_login(), make_user("root", superuser=True)))
    send(outgoing(transport, failed_login(), make_user("carol")))

    admin_mail, user_mail = (m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert "Sent by the notification transport mail." in admin_mail
    assert "notification transport" not in user_mail


def test_a_recipient_without_an_address_fails_for_good(ctx, smtp: SmtpReceiver):
    with pytest.raises(TransportError, match="user dave has no email address") as caught:
        send(outgoing(email_transport(), failed_login(), make_user("dave", email="")))

    assert caught.value.permanent
    assert smtp.envelopes == [] and sent_events() == []


def test_without_an_smtp_host_email_is_not_configured(app, ctx):
    app.config["MAIL_HOST"] = None

    with pytest.raises(TransportError, match="email is not configured") as caught:
        send(outgoing(email_transport(), failed_login(), make_user("carol")))

    assert caught.value.permanent


def test_it_logs_in_and_never_records_the_password(app, ctx):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    with smtp_receiver(authenticator=authenticator, auth_require_tls=False) as server:
        app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=server.port,
                          MAIL_USERNAME="mailer", MAIL_PASSWORD="smtp-pass-123")
        send(outgoing(email_transport(), failed_login(), make_user("carol")))
        db.session.commit()

    assert logins == [(b"mailer", b"smtp-pass-123")]
    assert len(server.envelopes) == 1
    assert "smtp-pass-123" not in str(sent_events()[0].context)


def test_a_refused_recipient_is_a_permanent_smtp_error(ctx, smtp: SmtpReceiver):
    smtp.refuse["carol@example.com"] = "550 5.1.1 no such user"

    with pytest.raises(TransportError) as caught:
        send(outgoing(email_transport(), failed_login(), make_user("carol")))

    assert (caught.value.status_code, caught.value.permanent) == (550, True)
    assert "no such user" in caught.value.message
    assert sent_events() == []


def test_an_unreachable_smtp_server_is_worth_a_retry(app, ctx):
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=free_port())

    with pytest.raises(TransportError) as caught:
        send(outgoing(email_transport(), failed_login(), make_user("carol")))

    assert (caught.value.status_code, caught.value.permanent) == (None, False)
    assert caught.value.message.startswith("SMTP server 127.0.0.1: ")


@pytest.mark.parametrize(("template", "says"), [
    ("email/nope.html", "email template 'email/nope.html' does not exist"),
    ("base.html", "email template 'base.html' is not in email/"),
])
def test_a_template_that_cannot_render_an_email_fails_for_good(ctx, smtp, template, says):
    transport = email_transport(email_template=template)

    with pytest.raises(TransportError, match=says) as caught:
        send(outgoing(transport, failed_login(), make_user("carol")))

    assert caught.value.permanent
    assert smtp.envelopes == []


def test_the_html_part_escapes_what_the_event_says(ctx, smtp: SmtpReceiver):
    send(outgoing(email_transport(), None, make_user("carol"), body='<img src="x">'))

    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "&lt;img src=&#34;x&#34;&gt;" in html and "<img" not in html
