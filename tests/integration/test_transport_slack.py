"""Slack (and Discord at `/slack`): authentik's attachment, field for field, with Herald's
name in it, posted to a real receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import make_user
from tests.integration.receivers import HttpReceiver, http_receiver, outgoing
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Event, NotificationTransport, TransportMode
from webapp.notifications.transports import send
from webapp.notifications.transports.content import HERALD_VERSION
from webapp.notifications.transports.slack import slack_body

KEY = "3e1b9c55-8d3f-4a51-a0a4-8c1c2d9b7e11"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def slack(url: str = "http://127.0.0.1:9/hook") -> NotificationTransport:
    return NotificationTransport(name="chat", mode=TransportMode.WEBHOOK_SLACK.value,
                                 webhook_url=url)


def failed_login(**context) -> Event:
    event = record("login_failed", context, app="tests",
                   user={"pk": 5, "username": "bob", "email": "bob@example.com"})
    db.session.commit()
    return event


def test_the_attachment_is_authentiks_with_heralds_name(ctx):
    event = failed_login(message="Invalid credentials", username="jdoe",
                         geo={"city": "Berlin"}, attempts=3)

    body = slack_body(outgoing(slack(), event, make_user("carol"), severity="alert"))

    assert body == {
        "username": "Herald",
        "icon_url": "",
        "attachments": [{
            "author_name": "Herald",
            "author_link": "",
            "author_icon": "",
            "title": "login_failed",
            "color": "#fd4b2d",
            "fields": [
                {"title": "Severity", "value": "alert", "short": True},
                {"title": "Dispatched for user", "value": "carol", "short": True},
                {"title": "Event user", "value": "bob", "short": True},
                {"title": "message", "value": "Invalid credentials"},  # strings only
                {"title": "username", "value": "jdoe"},
            ],
            "footer": f"Herald {HERALD_VERSION}",
        }],
    }


def test_without_an_event_the_body_is_the_title(ctx):
    body = slack_body(outgoing(slack(), None, None, body="Backup finished", severity="notice"))

    attachment = body["attachments"][0]
    assert attachment["title"] == "Backup finished"
    assert attachment["fields"] == [
        {"title": "Severity", "value": "notice", "short": True},
        {"title": "Dispatched for user", "value": "", "short": True},
    ]


def test_fields_stop_at_discords_limit_and_are_cut_to_its_lengths(ctx):
    context = {f"k{n:02}": f"value {n}" for n in range(30)}
    context["k00"] = "v" * 2000
    event = failed_login(**context)

    fields = slack_body(outgoing(slack(), event, make_user("carol")))["attachments"][0]["fields"]

    assert len(fields) == 25
    assert fields[3] == {"title": "k00", "value": "v" * 1024}
    assert fields[-1]["title"] == "k21"


def test_the_author_links_to_this_herald_when_it_knows_its_address(app, ctx):
    app.config.update(EXTERNAL_URL="https://herald.example.com")

    body = slack_body(outgoing(slack(), None, None, body="hi"))

    assert body["attachments"][0]["author_link"] == "https://herald.example.com/"
    assert body["icon_url"] == body["attachments"][0]["author_icon"] == ""


def test_it_posts_the_attachment_with_the_delivery_key(ctx, receiver: HttpReceiver):
    event = failed_login(message="Invalid credentials")
    message = outgoing(slack(receiver.url), event, make_user("carol"), delivery_key=KEY)

    result = send(message)

    assert result.status_code == 200
    [request] = receiver.requests
    assert request.json() == slack_body(message)
    assert request.headers["X-Herald-Delivery"] == KEY
    assert request.headers["Content-Type"] == "application/json"
