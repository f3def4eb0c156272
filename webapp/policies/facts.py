"""EventFacts: what policies read from one event, worked out once however many rules ask."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from webapp.models import Event
from webapp.policies.event_view import client_address, event_variables


class EventFacts:
    """Cheap fields up front (every event matcher reads them); the parsed client IP and the
    sandbox variables only when a policy first needs them."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.action = event.action
        self.app = event.app
        self.model = (f"{event.model_app}.{event.model_name}"
                      if event.model_app and event.model_name else None)
        pk = (event.user or {}).get("pk")
        self.user_pk: int | None = pk if isinstance(pk, int) and not isinstance(pk, bool) else None

    @cached_property
    def client_ip(self) -> Any:
        return client_address(self.event.client_ip)

    @cached_property
    def variables(self) -> dict[str, Any]:
        return event_variables(self.event)
