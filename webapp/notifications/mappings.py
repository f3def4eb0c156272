"""Webhook mappings: a sandboxed Jinja template renders a webhook's body or extra headers.

A mapping is text, and the text must be JSON: the body mapping any JSON value, the headers
mapping an object of string to string. Forms and the API call `validate_mapping` before a
mapping is saved (it renders against a sample failed login), so a broken mapping is refused
there rather than discovered by a dead delivery; `preview_mapping` shows the result on a real
event.

Variables: `notification` (body, severity, hyperlink, created), `event` (the sandbox's view
of the event, None without one, plus its helpers) and `user` (the recipient: username, email,
name, pk; None without one).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any, Literal

from webapp.core.db_types import utcnow
from webapp.events.sanitize import iso_utc
from webapp.events.serialize import DEFAULT_BRAND
from webapp.models import Event, EventAction, Severity, User
from webapp.policies.event_view import event_variables
from webapp.policies.sandbox import SandboxError, render

Purpose = Literal["body", "headers"]
RENDER_TIMEOUT = 1.0  # seconds
#: RFC 9110 token characters: anything else in a header name is refused by the receiver.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")


class MappingError(ValueError):
    """A mapping that does not render, or renders the wrong shape; the message is for users."""


def mapping_variables(*, event: Event | None, recipient: User | None, body: str,
                      severity: str, hyperlink: str | None) -> dict[str, Any]:
    variables = event_variables(event) if event is not None else {"event": None}
    return {
        **variables,
        "notification": {"body": body, "severity": severity, "hyperlink": hyperlink,
                         "created": iso_utc(utcnow())},
        "user": _user_view(recipient),
    }


def render_mapping(expression: str, purpose: Purpose, variables: dict[str, Any]) -> Any:
    """The mapping's value: parsed JSON, checked for its purpose."""
    try:
        text = render(expression, variables, timeout=RENDER_TIMEOUT)
    except SandboxError as exc:
        raise MappingError(f"the {purpose} mapping does not render: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(
            f"the {purpose} mapping must render JSON, but line {exc.lineno} column {exc.colno}: "
            f"{exc.msg} (wrap values with the tojson filter: {{{{ event.action | tojson }}}})"
        ) from None
    except RecursionError:
        raise MappingError(f"the {purpose} mapping renders JSON nested too deeply") from None
    return _SHAPE_CHECKS[purpose](value)


def validate_mapping(expression: str, purpose: Purpose) -> None:
    """Raise MappingError unless the mapping renders what `purpose` needs for a sample event."""
    render_mapping(expression, purpose, _preview_variables(sample_event()))


def preview_mapping(expression: str, purpose: Purpose, event: Event) -> str:
    """The mapping rendered for `event`, as indented JSON (raises MappingError)."""
    value = render_mapping(expression, purpose, _preview_variables(event))
    return json.dumps(value, indent=2, ensure_ascii=False)


def sample_event() -> Event:
    """A realistic failed login, in memory only (never added to a session)."""
    now = utcnow()
    return Event(
        event_uuid=uuid.UUID("5f0e7ad2-58d4-4c35-9d3a-6b0c7b1d2e90"),
        action=EventAction.LOGIN_FAILED.value, app="webapp.views.auth",
        user={"username": "AnonymousUser", "email": "", "is_anonymous": True},
        context={
            "username": "jdoe",
            "http_request": {"path": "/auth/login", "method": "POST", "args": {},
                             "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                             "request_id": "8d1c3a9f0b7e4d2a9c6f5e4d3c2b1a09"},
            "geo": {"continent": "EU", "country": "DE", "lat": 52.52, "long": 13.405,
                    "city": "Berlin"},
            "asn": {"asn": 3320, "as_org": "Deutsche Telekom AG", "network": "203.0.113.0/24"},
        },
        client_ip="203.0.113.7", created=now, expires=now + timedelta(days=365),
        brand=dict(DEFAULT_BRAND),
    )


def _preview_variables(event: Event) -> dict[str, Any]:
    sample_user = User(id=1, username="admin", email="admin@example.com", name="Administrator")
    return mapping_variables(event=event, recipient=sample_user, body=event.summary,
                             severity=Severity.ALERT.value,
                             hyperlink=f"/events/{event.event_uuid}")


def _user_view(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"username": user.username, "email": user.email, "name": user.name, "pk": user.id}


def _any_json(value: Any) -> Any:
    return value


def _string_headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise MappingError("the headers mapping must render a JSON object, "
                           f"not {type(value).__name__}")
    for name, item in value.items():
        if not _HEADER_NAME.match(name):
            raise MappingError(f"header name {name!r} is not a valid HTTP header name")
        if not isinstance(item, str):
            raise MappingError(f"header {name!r} must be a string, not {type(item).__name__}")
        if _HEADER_VALUE_FORBIDDEN.search(item):
            raise MappingError(f"header {name!r} contains a line break or NUL character")
    return value


_SHAPE_CHECKS = {"body": _any_json, "headers": _string_headers}
