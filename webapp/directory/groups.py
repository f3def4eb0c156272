"""Groups: their tree (which must never loop) and their members.

Like accounts.py, these functions only change ORM objects; the caller commits and the audit
hooks record what changed, membership included.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import selectinload

from webapp.core.extensions import db
from webapp.directory.admins import keeping_an_admin
from webapp.models import Group, User
from webapp.models.directory import group_membership


class GroupError(ValueError):
    """A group change that would break the directory, such as a parent cycle."""


def group_page(page: int, per_page: int) -> Pagination:
    query = (sa.select(Group).options(selectinload(Group.users), selectinload(Group.parent))
             .order_by(Group.name))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def descendant_ids(group: Group) -> set[int]:
    """Every group below `group`, at any depth (UNION, not UNION ALL, so even a damaged
    tree that already loops cannot make this query run forever)."""
    tree = sa.select(Group.num_pk).where(Group.parent_id == group.num_pk).cte(recursive=True)
    tree = tree.union(sa.select(Group.num_pk).where(Group.parent_id == tree.c.num_pk))
    return set(db.session.scalars(sa.select(tree.c.num_pk)))


def refused_parent_ids(group: Group | None) -> set[int]:
    """The groups that may not become `group`'s parent: itself and its descendants."""
    if group is None:
        return set()
    return {group.num_pk} | descendant_ids(group)


def create_group(*, name: str, parent: Group | None, is_superuser: bool,
                 attributes: dict[str, Any] | None = None) -> Group:
    group = Group(name=name, parent=parent, is_superuser=is_superuser,
                  attributes=attributes or {})
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: Group, *, name: str, parent: Group | None, is_superuser: bool,
                 attributes: dict[str, Any]) -> None:
    """Refused when it makes a cycle, or when taking the superuser flag away (or moving the
    group out from under a superuser parent) leaves no administrator."""
    if parent is not None and parent.num_pk in refused_parent_ids(group):
        raise GroupError(f"'{parent.name}' is '{group.name}' itself or one of its subgroups; "
                         "making it the parent would create a cycle.")

    def change() -> None:
        group.name, group.parent = name, parent
        group.is_superuser, group.attributes = is_superuser, attributes

    keeping_an_admin(change, GroupError)


def delete_group(group: Group) -> None:
    """Members leave the group and its subgroups move to the top level; refused when that
    leaves no administrator."""
    keeping_an_admin(lambda: db.session.delete(group), GroupError)


def member_ids(group: Group) -> sa.Select:
    """The ids of the group's direct members, as a subquery."""
    return sa.select(group_membership.c.user_id).where(
        group_membership.c.group_id == group.num_pk)


def add_member(group: Group, user: User) -> bool:
    """Add `user`; False when they already were a member."""
    if user in group.users:
        return False
    group.users.append(user)
    return True


def remove_member(group: Group, user: User) -> bool:
    """Remove `user`; False when they were not a member. Refused when it leaves no
    administrator."""
    if user not in group.users:
        return False
    keeping_an_admin(lambda: group.users.remove(user), GroupError)
    return True
