"""The generic webhook, against a real HTTP receiver on 127.0.0.1: authentik's body plus the
event, Herald's delivery and signature headers, mappings, and every way a receiver can fail."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.factories import make_user
from tests.integration.receivers import HttpReceiver, Reply, free_port, http_receiver, outgoing
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.serialize import event_to_dict
from webapp.models import Event, NotificationTransport, TransportMode, WebhookMapping
from webapp.notifications.transports import TransportError, send
from webapp.notifications.transports import http as http_transport
from webapp.notifications.transports.http import parse_retry_after

KEY = "7d444840-9dc0-11d1-b245-5ffdce74fad2"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def webhook(url: str, **fields) -> NotificationTransport:
    transport = NotificationTransport(name="hook", mode=TransportMode.WEBHOOK.value,
                                      webhook_url=url, **fields)
    db.session.add(transport)
    db.session.commit()
    return transport


def failed_login() -> Event:
    event = record("login_failed", {"message": "Invalid credentials", "username": "jdoe"},
                   user={"pk": 5, "username": "bob", "email": "bob@example.com"}, app="tests",
                   client_ip="203.0.113.7")
    db.session.commit()
    return event


def mapping(name: str, expression: str) -> WebhookMapping:
    row = WebhookMapping(name=name, expression=expression)
    db.session.add(row)
    return row


def test_default_body_is_authentiks_plus_the_event(ctx, receiver: HttpReceiver):
    event = failed_login()
    carol = make_user("carol", email="carol@example.com")

    result = send(outgoing(webhook(receiver.url), event, carol, delivery_key=KEY))

    assert (result.status_code, result.response_excerpt) == (200, "ok")
    assert result.latency_ms >= 0
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.json() == {
        "body": "Invalid credentials",
        "severity": "alert",
        "user_email": "carol@example.com",
        "user_username": "carol",
        "event_user_email": "bob@example.com",
        "event_user_username": "bob",
        "event": event_to_dict(event),
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Herald-Delivery"] == KEY
    assert request.headers["User-Agent"].startswith("Herald/")
    assert "X-Herald-Signature" not in request.headers


def test_a_message_without_event_has_no_event_user_keys(ctx, receiver: HttpReceiver):
    send(outgoing(webhook(receiver.url), None, None, body="Disk almost full", severity="warning"))

    assert receiver.requests[0].json() == {
        "body": "Disk almost full", "severity": "warning", "user_email": None,
        "user_username": None, "event": None,
    }


def test_every_attempt_carries_the_same_delivery_key(ctx, receiver: HttpReceiver):
    transport = webhook(receiver.url)
    for attempt in (1, 2, 3):
        send(outgoing(transport, failed_login(), attempt=attempt, delivery_key=KEY))

    assert [r.headers["X-Herald-Delivery"] for r in receiver.requests] == [KEY] * 3


def test_signature_is_an_hmac_of_time_and_the_exact_body(ctx, receiver: HttpReceiver):
    send(outgoing(webhook(receiver.url, signing_secret="whsec-test-123"), failed_login()))

    request = receiver.requests[0]
    fields = dict(part.split("=", 1) for part in request.headers["X-Herald-Signature"].split(","))
    expected = hmac.new(b"whsec-test-123", fields["t"].encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(int(fields["t"]) - time.time()) < 60


def test_body_mapping_replaces_the_body(ctx, receiver: HttpReceiver):
    body = mapping("chat", """{
        "text": {{ (event.action ~ " for " ~ event.context.username) | tojson }},
        "to": {{ user.email | tojson }},
        "level": {{ notification.severity | tojson }},
        "from": {{ ak_client_ip | string | tojson }}
    }""")
    transport = webhook(receiver.url, webhook_mapping_body=body)

    send(outgoing(transport, failed_login(), make_user("carol")))

    assert receiver.requests[0].json() == {"text": "login_failed for jdoe",
                                           "to": "carol@example.com", "level": "alert",
                                           "from": "203.0.113.7"}


def test_headers_mapping_adds_headers_but_cannot_replace_heralds(ctx, receiver: HttpReceiver):
    headers = mapping("auth", '{"Authorization": "Bearer {{ user.username }}-token",'
                              ' "X-Herald-Delivery": "forged", "X-Action": "{{ event.action }}"}')
    transport = webhook(receiver.url, webhook_mapping_headers=headers)

    send(outgoing(transport, failed_login(), make_user("carol"), delivery_key=KEY))

    request = receiver.requests[0]
    assert request.headers["Authorization"] == "Bearer carol-token"
    assert request.headers["X-Action"] == "login_failed"
    assert request.headers["X-Herald-Delivery"] == KEY
    assert request.json()["user_username"] == "carol"  # the body is still the default


@pytest.mark.parametrize(("purpose", "expression", "says"), [
    ("body", "Event {{ event.action }} happened", "must render JSON"),
    ("body", "{{ event.nope(", "does not render"),
    ("headers", '["not", "an", "object"]', "must render a JSON object"),
    ("headers", '{"X-Count": {{ 3 }}}', "must be a string"),
])
def test_a_mapping_that_renders_the_wrong_thing_fails_for_good(ctx, receiver: HttpReceiver,
                                                               purpose, expression, says):
    bad = mapping("bad", expression)
    transport = webhook(receiver.url, **{f"webhook_mapping_{purpose}": bad})

    with pytest.raises(TransportError) as caught:
        send(outgoing(transport, failed_login()))

    assert caught.value.permanent
    assert says in caught.value.message
    assert "'bad'" in caught.value.message
    assert receiver.requests == []


def test_a_server_error_is_reported_with_code_and_excerpt(ctx, receiver: HttpReceiver):
    receiver.reply_with(Reply(500, b"database is down " + b"x" * 5000))

    with pytest.raises(TransportError) as caught:
        send(outgoing(webhook(receiver.url), failed_login()))

    error = caught.value
    assert (error.status_code, error.permanent, error.retry_after) == (500, False, None)
    assert error.response_excerpt.startswith("database is down")
    assert len(error.response_excerpt) == 1000
    assert error.message == f"http://127.0.0.1:{receiver.url.split(':')[2].split('/')[0]} " \
                            "answered HTTP 500"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_are_honoured(ctx, receiver: HttpReceiver, status):
    receiver.reply_with(Reply(status, b"slow down", {"Retry-After": "7"}))

    with pytest.raises(TransportError) as caught:
        send(outgoing(webhook(receiver.url), failed_login()))

    assert (caught.value.status_code, caught.value.retry_after) == (status, 7.0)


def test_retry_after_is_ignored_on_other_errors(ctx, receiver: HttpReceiver):
    receiver.reply_with(Reply(500, b"", {"Retry-After": "7"}))

    with pytest.raises(TransportError) as caught:
        send(outgoing(webhook(receiver.url), failed_login()))

    assert caught.value.retry_after is None


def test_retry_after_may_be_an_http_date():
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("Sat, 01 Mar 2025 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_an_unreachable_receiver_has_no_status_code(ctx):
    port = free_port()
    transport = webhook(f"http://127.0.0.1:{port}/services/T0/B0/secret-path-token")

    with pytest.raises(TransportError) as caught:
        send(outgoing(transport, failed_login()))

    error = caught.value
    assert (error.status_code, error.permanent) == (None, False)
    assert error.message.startswith(f"could not send to http://127.0.0.1:{port}: ")
    assert "refused" in error.message.lower()
    assert "secret-path-token" not in error.message


def test_a_receiver_that_does_not_answer_in_time_times_out(ctx, receiver, monkeypatch):
    monkeypatch.setattr(http_transport, "TIMEOUT", (2.0, 0.2))
    receiver.reply_with(Reply(200, delay=1.0))

    with pytest.raises(TransportError) as caught:
        send(outgoing(webhook(receiver.url), failed_login()))

    assert "did not answer within 2s/0.2s" in caught.value.message
    assert caught.value.status_code is None


@pytest.mark.parametrize(("url", "says"), [
    ("", "has no webhook URL"),
    ("hooks.example.com/T0/secret", "must start with http:// or https://"),
    ("ftp://127.0.0.1/secret", "must start with http:// or https://"),
    ("http://[::1/secret", "is not a valid URL"),
])
def test_a_missing_or_malformed_url_fails_for_good(ctx, url, says):
    with pytest.raises(TransportError) as caught:
        send(outgoing(webhook(url), failed_login()))

    assert caught.value.permanent
    assert says in caught.value.message
    assert "secret" not in caught.value.message


def test_the_local_mode_is_not_sent_through_transports(ctx):
    local = NotificationTransport(name="bell", mode=TransportMode.LOCAL.value)

    with pytest.raises(TransportError, match="'bell' in mode 'local' does not send messages"):
        send(outgoing(local, None, body="hi"))
