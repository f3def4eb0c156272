"""Slack's incoming-webhook attachment, field for field as authentik sends it; Discord takes
the same body at its webhook URL with `/slack` appended.

authentik points the icon and author link at goauthentik.io. Herald links to itself when it
knows its own address (HERALD_EXTERNAL_URL) and
otherwise leaves the values empty: the keys stay so receivers see authentik's shape, but
no message ever makes a chat client fetch from a host this instance has nothing to do with.
"""

from __future__ import annotations

from typing import Any

from webapp.notifications.transports.base import OutgoingMessage, SendResult
from webapp.notifications.transports.content import (
    HERALD_VERSION,
    instance_url,
    string_context,
    title,
)
from webapp.notifications.transports.http import post_json

#: Discord refuses an embed with more fields; Slack shows them all, so the lower limit wins.
FIELD_LIMIT = 25
COLOR = "#fd4b2d"
#: Herald ships no icon image yet; see the module docstring.
ICON_URL = ""


def send(message: OutgoingMessage) -> SendResult:
    return post_json(message, slack_body(message))


def slack_body(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "username": "Herald",
        "icon_url": ICON_URL,
        "attachments": [{
            "author_name": "Herald",
            "author_link": instance_url(),
            "author_icon": ICON_URL,
            "title": title(message),
            "color": COLOR,
            "fields": _fields(message),
            "footer": f"Herald {HERALD_VERSION}",
        }],
    }


def _fields(message: OutgoingMessage) -> list[dict[str, Any]]:
    recipient = message.recipient.username if message.recipient else ""
    fields: list[dict[str, Any]] = [
        {"title": "Severity", "value": message.severity, "short": True},
        {"title": "Dispatched for user", "value": recipient, "short": True},
    ]
    event = message.event
    if event is not None and event.user:
        fields.append({"title": "Event user", "value": str(event.user.get("username")),
                       "short": True})
    fields.extend({"title": key[:256], "value": value[:1024]}
                  for key, value in string_context(event))
    return fields[:FIELD_LIMIT]
