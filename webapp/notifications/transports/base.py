"""The contract between the delivery queue and every transport: one message in, a result or a
TransportError out. Transports know nothing of queues or retries; the error tells the queue
whether a retry could help and when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from webapp.models import Event, NotificationTransport, User


@dataclass
class OutgoingMessage:
    """One attempt at sending one delivery."""

    transport: NotificationTransport
    event: Event | None
    recipient: User | None
    severity: str
    body: str
    hyperlink: str | None
    delivery_key: uuid.UUID | str
    attempt: int  # 1-based


@dataclass
class SendResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str


class TransportError(Exception):
    """A failed attempt.

    `permanent` means retrying the same message cannot succeed (a mapping that does not
    render, no URL, a recipient without an email address), so the queue can give up at once.
    `retry_after` is the receiver's own Retry-After, in seconds, when it sent one.
    """

    def __init__(self, message: str, *, status_code: int | None = None,
                 latency_ms: int | None = None, response_excerpt: str = "",
                 retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.latency_ms = latency_ms
        self.response_excerpt = response_excerpt
        self.retry_after = retry_after
        self.permanent = permanent
