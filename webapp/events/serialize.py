"""The one JSON shape of an event, shared by the log line, the API and exports."""

from __future__ import annotations

from typing import Any

from webapp.events.sanitize import iso_utc
from webapp.models import Event

#: Herald has one brand; events carry it so authentik tools that read `brand` keep working.
DEFAULT_BRAND: dict[str, Any] = {
    "pk": "6b1f9c0e4a7d4e7f9a1b2c3d4e5f6a70",
    "app": "herald",
    "name": "Herald",
    "model_name": "brand",
}


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "pk": str(event.event_uuid),
        "user": event.user or {},
        "action": event.action,
        "app": event.app,
        "context": event.context or {},
        "client_ip": event.client_ip,
        "created": iso_utc(event.created),
        "expires": iso_utc(event.expires),
        "brand": event.brand or {},
    }
