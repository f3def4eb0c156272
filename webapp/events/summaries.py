"""One readable sentence per event, for notifications, chat messages, emails and the ledger.

authentik's summary is the context's `message`, or else `action: {context}` as a Python dict,
which puts a wall of braces into a bell or a Slack channel. Herald keeps the message when
there is one, and otherwise says what happened in words, with the few facts an administrator
acts on (who, which object, from where); an action without a phrase here falls back to the
action and its context as compact JSON, cut short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webapp.models.events import Event

LIMIT = 300
Phrase = Callable[[str, dict[str, Any]], str]


def _model(context: dict[str, Any]) -> str:
    model = context.get("model") if isinstance(context.get("model"), dict) else {}
    kind = str(model.get("model_name") or "object")
    name = model.get("name")
    return f"{kind} “{name}”" if name else kind


def _tried(context: dict[str, Any]) -> str:
    username = context.get("username")
    return f" as “{username}”" if username else ""


PHRASES: dict[str, Phrase] = {
    "login": lambda who, _c: f"{who} signed in",
    "logout": lambda who, _c: f"{who} signed out",
    "login_failed": lambda _who, c: f"Failed sign-in{_tried(c)}",
    "password_set": lambda who, _c: f"{who} set a new password",
    "model_created": lambda who, c: f"{who} created {_model(c)}",
    "model_updated": lambda who, c: f"{who} updated {_model(c)}",
    "model_deleted": lambda who, c: f"{who} deleted {_model(c)}",
    "suspicious_request": lambda _who, _c: "Suspicious request",
    "impersonation_started": lambda who, _c: f"{who} started impersonating a user",
    "impersonation_ended": lambda who, _c: f"{who} stopped impersonating a user",
}


def summarize(event: Event) -> str:
    """The context's message, or a sentence for the action, or `action: {context JSON}`."""
    context = event.context if isinstance(event.context, dict) else {}
    message = context.get("message")
    if message:
        return _cut(str(message))
    phrase = PHRASES.get(event.action)
    if phrase is None:
        return _cut(f"{event.action}: {json.dumps(event.context, ensure_ascii=False, default=str)}")
    user = event.user if isinstance(event.user, dict) else {}
    sentence = phrase(str(user.get("username") or "Someone"), context)
    return _cut(f"{sentence} from {event.client_ip}" if event.client_ip else sentence)


def _cut(text: str) -> str:
    return text if len(text) <= LIMIT else text[:LIMIT - 1] + "…"
