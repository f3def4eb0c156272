"""The notification set-up the fault tests break, and how they read its outcome.

Each needs an application context on the database the Herald processes use.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from tests.factories import make_group, make_rule, make_transport, make_user
from tests.integration.receivers import ReceivedRequest
from webapp.core.extensions import db
from webapp.models import Delivery


def notify_webhook(url: str, action: str) -> None:
    """A rule sending each `action` event to the webhook at `url` for one recipient, so each
    such event makes exactly one delivery."""
    member = make_user("on-call")
    hook = make_transport("hook", "webhook", webhook_url=url)
    make_rule(f"{action} to the webhook", actions=(action,), transports=(hook,),
              group=make_group("on-call", member))


def deliveries() -> list[Delivery]:
    """Every delivery as stored now."""
    db.session.expire_all()
    rows = list(db.session.scalars(sa.select(Delivery).order_by(Delivery.id)))
    db.session.rollback()  # hold nothing open while the scheduler writes
    return rows


def all_sent(expected: int) -> bool:
    states = deliveries()
    return len(states) == expected and all(d.status == "sent" for d in states)


def bodies_by_key(requests: list[ReceivedRequest]) -> dict[str, list[bytes]]:
    """What the receiver got under each idempotency key, in order of arrival."""
    received: dict[str, list[bytes]] = defaultdict(list)
    for request in requests:
        received[request.headers["X-Herald-Delivery"]].append(request.body)
    return dict(received)
