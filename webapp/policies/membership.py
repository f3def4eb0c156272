"""Group membership as group bindings see it, cached per user for one RuleSet.

Following authentik's `Group.is_member` (and Herald's `User.all_groups`), a user is a member
of a group when they belong to it or to any group below it: membership counts upwards through
parents, as admin rights do.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.models import Group, group_membership


class Membership:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._parents: dict[int, int | None] | None = None
        self._groups: dict[int, frozenset[int]] = {}

    def groups_of(self, user_pk: int | None) -> frozenset[int]:
        """The group ids (num_pk) `user_pk` is a member of, ancestors included."""
        if user_pk is None:
            return frozenset()
        if user_pk not in self._groups:
            self._groups[user_pk] = self._load(user_pk)
        return self._groups[user_pk]

    def _load(self, user_pk: int) -> frozenset[int]:
        direct = self._session.scalars(sa.select(group_membership.c.group_id)
                                       .where(group_membership.c.user_id == user_pk))
        parents = self._parent_map()
        found: set[int] = set()
        pending = list(direct)
        while pending:
            group_id = pending.pop()
            if group_id is not None and group_id not in found:  # a damaged tree cannot loop
                found.add(group_id)
                pending.append(parents.get(group_id))
        return frozenset(found)

    def _parent_map(self) -> dict[int, int | None]:
        """Every group's parent, read once: the tree is small and shared by all users."""
        if self._parents is None:
            rows = self._session.execute(sa.select(Group.num_pk, Group.parent_id))
            self._parents = {num_pk: parent_id for num_pk, parent_id in rows}
        return self._parents
