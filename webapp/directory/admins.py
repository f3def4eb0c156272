"""The last-admin guard: no change may leave Herald without an active administrator.

An administrator is an active user who is a superuser, or a member of a superuser group or of
any group below one (User.is_admin). Many changes can take that away from the last of them:
demoting or deactivating a user, deleting them, removing the superuser flag from their group,
moving that group out from under a superuser parent, deleting it, removing them from it. Rather
than foresee each, every such service makes its change through `keeping_an_admin`, which asks
the database whether an administrator is left afterwards.

Two administrators demoting each other at the same moment would each see the other still in
place; so the guarded changes take turns, and the second one sees the first one's result. On
PostgreSQL they take a transaction-scoped advisory lock first. SQLite has one writer at a
time: the second change's write waits until the first one commits, and its check, made after
that write, sees the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.models import Group, User
from webapp.models.directory import group_membership

T = TypeVar("T")
LAST_ADMIN = ("This would leave Herald without an active administrator: make someone else an "
              "administrator first.")
#: The PostgreSQL advisory lock the guarded changes take in turn (any fixed 64-bit number that
#: no other lock in Herald uses; these digits spell "herald admin" on a phone keypad).
_ADVISORY_LOCK = 437253_23646


def keeping_an_admin(change: Callable[[], T], refusal: type[Exception]) -> T:
    """Make `change` (ORM changes, not committed) unless it removes the last active
    administrator: then everything pending in the session is rolled back and
    `refusal(LAST_ADMIN)` is raised. A directory that had no administrator (an empty one, or
    one built by a script) is not held to this."""
    _take_turns()
    had_admins = active_admin_exists()
    result = change()
    db.session.flush()
    if had_admins and not active_admin_exists():
        db.session.rollback()
        raise refusal(LAST_ADMIN)
    return result


def active_admin_exists() -> bool:
    """Whether any active user is an administrator, by their own flag or through a group."""
    admin_groups = sa.select(Group.num_pk).where(Group.is_superuser).cte(recursive=True)
    admin_groups = admin_groups.union(  # UNION, not UNION ALL: a damaged looping tree ends
        sa.select(Group.num_pk).where(Group.parent_id == admin_groups.c.num_pk))
    through_group = sa.select(group_membership.c.user_id).where(
        group_membership.c.group_id.in_(sa.select(admin_groups.c.num_pk)))
    query = sa.select(User.id).where(User.is_active, sa.or_(User.is_superuser,
                                                            User.id.in_(through_group)))
    return db.session.scalar(query.limit(1)) is not None


def _take_turns() -> None:
    """On PostgreSQL, wait until no other guarded change is in progress; the turn lasts to
    the commit (SQLite's write lock does this by itself)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
