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
from webapp.models import Group, User


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


def parent_candidates(refused: set[int]) -> list[Group]:
    """Every group whose id is not in `refused` (see refused_parent_ids), by name."""
    query = sa.select(Group).order_by(Group.name)
    if refused:
        query = query.where(Group.num_pk.not_in(refused))
    return list(db.session.scalars(query))


def create_group(*, name: str, parent: Group | None, is_superuser: bool,
                 attributes: dict[str, Any] | None = None) -> Group:
    group = Group(name=name, parent=parent, is_superuser=is_superuser,
                  attributes=attributes or {})
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: Group, *, name: str, parent: Group | None, is_superuser: bool,
                 attributes: dict[str, Any]) -> None:
    if parent is not None and parent.num_pk in refused_parent_ids(group):
        raise GroupError(f"'{parent.name}' is '{group.name}' itself or one of its subgroups; "
                         "making it the parent would create a cycle.")
    group.name, group.parent = name, parent
    group.is_superuser, group.attributes = is_superuser, attributes


def non_members(group: Group) -> list[User]:
    members = sa.select(User.id).join(User.groups).where(Group.num_pk == group.num_pk)
    query = sa.select(User).where(User.id.not_in(members)).order_by(User.username)
    return list(db.session.scalars(query))


def add_member(group: Group, user: User) -> bool:
    """Add `user`; False when they already were a member."""
    if user in group.users:
        return False
    group.users.append(user)
    return True


def remove_member(group: Group, user: User) -> bool:
    """Remove `user`; False when they were not a member."""
    if user not in group.users:
        return False
    group.users.remove(user)
    return True
