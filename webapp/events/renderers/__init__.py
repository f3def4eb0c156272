"""Per-action detail views: a registry from action to a small partial and its data.

The Logs' expandable rows, the Overview's recent events and the event page all show an event
through `details_for(event)`, so one action reads the same everywhere. A new kind of event
gets its view by one `register()` call (a partial under templates/events/details/ and a
function in `kinds` that prepares its data), never by another branch in a template; any
action without one (custom_ included) falls back to a key/value table of its context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.events.renderers import kinds
from webapp.events.renderers.values import mapping
from webapp.models import Event

Prepare = Callable[[Event, dict[str, Any]], dict[str, Any]]
TEMPLATE_DIR = "events/details"


@dataclass(frozen=True)
class Renderer:
    """A partial and the function that prepares what it shows."""

    template: str
    prepare: Prepare


@dataclass(frozen=True)
class Details:
    """What a details partial is rendered with: `template`, the `event` and its `data`."""

    event: Event
    template: str
    data: dict[str, Any]


_REGISTRY: dict[str, Renderer] = {}
FALLBACK = Renderer(f"{TEMPLATE_DIR}/context.html", kinds.context_table)


def register(partial: str, prepare: Prepare, *actions: str) -> None:
    """Show these actions with templates/events/details/<partial>.html and `prepare`."""
    renderer = Renderer(f"{TEMPLATE_DIR}/{partial}.html", prepare)
    for action in actions:
        _REGISTRY[action] = renderer


def renderer_for(action: str) -> Renderer:
    """The renderer registered for an action, or the key/value fallback."""
    return _REGISTRY.get(action, FALLBACK)


def details_for(event: Event) -> Details:
    """The partial for this event's action and its prepared data."""
    renderer = renderer_for(event.action)
    return Details(event, renderer.template, renderer.prepare(event, mapping(event.context)))


register("model_change", kinds.model_change, "model_created", "model_updated", "model_deleted")
register("sign_in", kinds.sign_in, "login", "login_failed", "logout")
register("failure", kinds.failure,
         "system_exception", "system_task_exception", "policy_exception",
         "property_mapping_exception")
register("suspicious_request", kinds.suspicious, "suspicious_request")
register("email_sent", kinds.email, "email_sent")
register("message", kinds.message, "configuration_error", "configuration_warning")
