"""The generic webhook: authentik's body (so receivers written for authentik keep working)
plus Herald's `event`, or whatever the transport's body mapping renders."""

from __future__ import annotations

from typing import Any

from webapp.events.serialize import event_to_dict
from webapp.models import WebhookMapping
from webapp.notifications.mappings import MappingError, Purpose, mapping_variables, render_mapping
from webapp.notifications.transports.base import OutgoingMessage, SendResult, TransportError
from webapp.notifications.transports.content import event_user_fields, recipient_fields
from webapp.notifications.transports.http import post_json


def send(message: OutgoingMessage) -> SendResult:
    transport = message.transport
    body = _mapped(message, transport.webhook_mapping_body, "body")
    headers = _mapped(message, transport.webhook_mapping_headers, "headers")
    return post_json(message, default_body(message) if body is None else body, headers)


def default_body(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "body": message.body,
        "severity": message.severity,
        **recipient_fields(message.recipient),
        **event_user_fields(message.event),
        "event": event_to_dict(message.event) if message.event is not None else None,
    }


def _mapped(message: OutgoingMessage, mapping: WebhookMapping | None, purpose: Purpose) -> Any:
    """The mapping's rendering, or None when the transport has no mapping for `purpose`."""
    if mapping is None:
        return None
    variables = mapping_variables(event=message.event, recipient=message.recipient,
                                  body=message.body, severity=message.severity,
                                  hyperlink=message.hyperlink)
    try:
        return render_mapping(mapping.expression, purpose, variables)
    except MappingError as exc:
        raise TransportError(f"webhook mapping {mapping.name!r}: {exc}", permanent=True) from None
