"""The pickers' search routes: the users or groups matching what was typed, as options.

Each answers with at most LIMIT matches (webapp.directory.name_search: indexed at any number
of users) for the listbox of a picker (webapp/forms/pickers.py). Admin-only, as every
Directory route (webapp.web.security denies by default); they only read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import abort, render_template, request
from sqlalchemy.orm import selectinload

from webapp.core.extensions import db
from webapp.directory.groups import member_ids, refused_parent_ids
from webapp.directory.name_search import GROUPS, USERS, NameIndex
from webapp.forms.pickers import MAX_ID
from webapp.models import Group, User
from webapp.views.directory.common import bp

LIMIT = 20


@bp.get("/pick/users")
def pick_users():
    """?q=text, and ?skip_members_of=<group id> to leave out who already is a member."""
    group = _group_arg("skip_members_of")
    where = [User.id.not_in(member_ids(group))] if group else []
    return _options(USERS, where, hint=lambda user: " · ".join(filter(None, (user.name,
                                                                            user.email))))


@bp.get("/pick/groups")
def pick_groups():
    """?q=text, and ?skip_tree_of=<group id> to leave out that group and its subgroups (the
    parents it may not have)."""
    group = _group_arg("skip_tree_of")
    where = [Group.num_pk.not_in(refused_parent_ids(group))] if group else []
    return _options(GROUPS, where, hint=lambda group: f"below {group.parent.name}"
                    if group.parent else "", load=[selectinload(Group.parent)])


def _options(index: NameIndex, where: list[Any], hint: Callable[[Any], str],
             load: Sequence[Any] = ()):
    q = request.args.get("q", "")
    rows = index.find(q, limit=LIMIT, where=where, load=load)
    return render_template("partials/_picker_options.html", rows=rows, q=q.strip(),
                           noun=index.table, key=index.key_of, hint=hint,
                           label=lambda row: getattr(row, index.label))


def _group_arg(name: str) -> Group | None:
    """The group a query argument names; a value naming none is a 400 that says so."""
    raw = request.args.get(name)
    if raw is None:
        return None
    group = db.session.get(Group, int(raw)) if raw.isdigit() and int(raw) <= MAX_ID else None
    if group is None:
        abort(400, f"{name} names no group.")
    return group
