"""Transports: `send(message)` hands a message to the module that speaks its transport's mode.

The local mode (the in-app bell) is not here: the delivery code creates the Notification row
directly, in the transaction that matched the event. A new transport is a module with a
`send(OutgoingMessage) -> SendResult` and a line in SENDERS.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.models import TransportMode
from webapp.notifications.transports import email, slack, webhook
from webapp.notifications.transports.base import OutgoingMessage, SendResult, TransportError

Sender = Callable[[OutgoingMessage], SendResult]

SENDERS: dict[TransportMode, Sender] = {
    TransportMode.WEBHOOK: webhook.send,
    TransportMode.WEBHOOK_SLACK: slack.send,
    TransportMode.EMAIL: email.send,
}

__all__ = ["SENDERS", "OutgoingMessage", "SendResult", "TransportError", "send"]


def send(message: OutgoingMessage) -> SendResult:
    """Send one attempt; raises TransportError (permanent for a mode that cannot send)."""
    try:
        sender = SENDERS[TransportMode(message.transport.mode)]
    except (KeyError, ValueError):
        raise TransportError(f"transport {message.transport.name!r} in mode "
                             f"{message.transport.mode!r} does not send messages",
                             permanent=True) from None
    return sender(message)
