"""What a matched rule produces: bell notifications at once, queued deliveries for the rest.

The local transport writes the Notification rows in the matching transaction (the bell
cannot fail, so it needs no queue). Every other transport gets Delivery rows that the
delivery job sends and retries. A send-once transport gets one delivery per event, addressed
to the first recipient, as authentik's `send_once` does.

Loops: events the notification machinery records itself (email_sent, a dead delivery's
configuration_error) reach the bell only. The bell records nothing, so nothing can feed
back, while admins still see that a webhook died. (A policy's own exceptions never match at
all: webapp.policies.engine has authentik's guard for those.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from webapp.core.extensions import db
from webapp.models import (
    Delivery,
    Event,
    Notification,
    NotificationRule,
    NotificationTransport,
    TransportMode,
    User,
)

#: Apps whose events come from the notification machinery (see the module docstring).
MACHINERY_APPS = frozenset({"herald.notifications"})


def event_path(event: Event) -> str:
    """The event page, as a path: jobs have no request to build an absolute URL from."""
    return f"/events/{event.pk}"


def notify(rule: NotificationRule, event: Event, users: Sequence[User]) -> int:
    """Create the rule's notifications and deliveries for `event`; how many were made."""
    made = 0
    for transport in rule.transports:
        targets = list(users[:1] if transport.send_once else users)
        if not targets or (event.app in MACHINERY_APPS and transport.mode != TransportMode.LOCAL):
            continue
        handler = _HANDLERS.get(transport.mode, _enqueue)
        made += handler(rule, transport, event, targets)
    return made


def _notify_in_app(rule: NotificationRule, _transport: NotificationTransport, event: Event,
                   users: list[User]) -> int:
    db.session.add_all([
        Notification(severity=rule.severity, body=event.summary, hyperlink=event_path(event),
                     hyperlink_label="Show event", event_id=event.event_uuid, user_id=user.id,
                     rule_id=rule.id)
        for user in users])
    return len(users)


def _enqueue(rule: NotificationRule, transport: NotificationTransport, event: Event,
             users: list[User]) -> int:
    db.session.add_all([
        Delivery(transport_id=transport.id, transport_name=transport.name, rule_id=rule.id,
                 event_id=event.event_uuid, recipient_id=user.id, severity=rule.severity,
                 body=event.summary, hyperlink=event_path(event))
        for user in users])
    return len(users)


_HANDLERS: dict[str, Callable[..., int]] = {TransportMode.LOCAL: _notify_in_app}
