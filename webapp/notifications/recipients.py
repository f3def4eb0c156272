"""Who a matched rule notifies: the event's user (when asked) and the destination group."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.models import Event, NotificationRule, User, group_membership


class Recipients:
    """Recipients for one matching batch: each group's members are read once per batch."""

    def __init__(self) -> None:
        self._members: dict[int, list[User]] = {}

    def of(self, rule: NotificationRule, event: Event) -> list[User]:
        """The event's user first (if `destination_event_user`), then the destination
        group's members by username; each user once, and only active accounts.

        authentik lists a user twice when they are both; Herald sends each person one message.
        """
        chosen: dict[int, User] = {}
        if rule.destination_event_user and (event_user := _event_user(event)) is not None:
            chosen[event_user.id] = event_user
        if rule.destination_group_id is not None:
            for member in self._group(rule.destination_group_id):
                chosen.setdefault(member.id, member)
        return [user for user in chosen.values() if user.is_active]

    def _group(self, group_id: int) -> list[User]:
        if group_id not in self._members:
            self._members[group_id] = _members(group_id)
        return self._members[group_id]


def _event_user(event: Event) -> User | None:
    pk = (event.user or {}).get("pk")
    return db.session.get(User, pk) if isinstance(pk, int) else None


def _members(group_id: int) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).join(group_membership, group_membership.c.user_id == User.id)
        .where(group_membership.c.group_id == group_id).order_by(User.username)))
