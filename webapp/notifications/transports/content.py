"""What the webhook, Slack and email transports say about a message, in authentik's terms.

authentik's receivers key on these names (user_email, event_user_username, ...), so each
transport takes them from here rather than spelling them again.
"""

from __future__ import annotations

from importlib.metadata import version
from urllib.parse import urljoin

from flask import current_app

from webapp.models import Event, User
from webapp.notifications.transports.base import OutgoingMessage

HERALD_VERSION = version("herald")


def recipient_fields(recipient: User | None) -> dict[str, str | None]:
    """The user the message is for (None for a send-once message with nobody to address)."""
    return {
        "user_email": recipient.email if recipient else None,
        "user_username": recipient.username if recipient else None,
    }


def event_user_fields(event: Event | None) -> dict[str, str | None]:
    """The event's own user, when it has one (authentik leaves the keys out otherwise)."""
    if event is None or not event.user:
        return {}
    return {
        "event_user_email": event.user.get("email"),
        "event_user_username": event.user.get("username"),
    }


def string_context(event: Event | None) -> list[tuple[str, str]]:
    """The event's context values that are plain strings, in order (nested values are left out,
    as authentik does: they do not fit a key/value line)."""
    if event is None:
        return []
    return [(key, value) for key, value in (event.context or {}).items()
            if isinstance(value, str)]


def title(message: OutgoingMessage, *, max_body: int | None = None) -> str:
    """The event's action, or without an event the body (cut to `max_body` characters)."""
    if message.event is not None:
        return message.event.action
    return message.body[:max_body]


def instance_url() -> str:
    """This Herald's own address (HERALD_EXTERNAL_URL, ending in "/"), else "". Not Flask's
    SERVER_NAME: that also makes routing refuse requests for any other host name."""
    url = (current_app.config.get("EXTERNAL_URL") or "").strip()
    return url.rstrip("/") + "/" if url else ""


def absolute_link(hyperlink: str | None) -> str | None:
    """A link that works outside the browser (in an email): relative links are resolved
    against instance_url() when Herald knows it."""
    base = instance_url()
    return urljoin(base, hyperlink) if hyperlink and base else hyperlink
