"""`core/users/` and `core/groups/`: lists for the Elastic integration and authentik clients,
and for superusers the same writes as Directory > Users and Groups, through the same
functions (webapp/directory/accounts.py, groups.py), so the same audit events are recorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.directory_schemas import (
    Group,
    GroupChange,
    GroupDetailQuery,
    GroupQuery,
    GroupRequest,
    PaginatedGroupList,
    PaginatedUserList,
    User,
    UserChange,
    UserQuery,
    UserRequest,
    UserUpdate,
    model_fields,
)
from webapp.api.object_views import create_view, destroy_view, retrieve_view
from webapp.api.pagination import entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.serializers import group_to_dict, user_to_dict
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.directory import accounts, groups
from webapp.directory.name_search import GROUPS, USERS, NameIndex
from webapp.models import Group as GroupRow
from webapp.models import User as UserRow

TAGS = ("core",)
USER_KEY = "<int:user_id>"
GROUP_KEY = "<group_id>"  # a UUID or Herald's numeric id: see _group_or_404
USER_TEXT = ("username", "email")
GROUP_TEXT = ("name",)
MAX_ID = 2**31 - 1  # an integer key beyond this matches nothing (PostgreSQL would refuse it)


def _flag_conditions(model: type, query: Any, names: tuple[str, ...]) -> list[Any]:
    """Exact matches for the text and boolean parameters the client gave."""
    flags = ("is_active", "is_superuser")
    return [getattr(model, name) == getattr(query, name)
            for name in (*names, *flags) if getattr(query, name, None) is not None]


def _search(text: str | None, index: NameIndex) -> list[Any]:
    """authentik's `search`: the text anywhere in the searched columns, from the name index."""
    return [index.containing(text)] if text else []


def _user_or_404(user_id: int) -> UserRow:
    found = db.session.get(UserRow, user_id) if user_id <= MAX_ID else None
    if found is None:
        abort(json_response({"detail": "No User matches the given query."}, 404))
    return found


def _group_or_404(group_id: str) -> GroupRow:
    """authentik addresses groups by their UUID; Herald's numeric id works too."""
    column = GroupRow.num_pk if group_id.isdigit() else GroupRow.group_uuid
    try:
        value = int(group_id) if group_id.isdigit() else uuid.UUID(group_id)
    except ValueError:
        value = None
    if isinstance(value, int) and value > MAX_ID:
        value = None
    found = db.session.scalar(sa.select(GroupRow).where(column == value)) if value else None
    if found is None:
        abort(json_response({"detail": "No Group matches the given query."}, 404))
    return found


@bp.get("/core/users/")
@api.validate(query=UserQuery, resp=Response(HTTP_200=PaginatedUserList, **ERRORS),
              tags=TAGS)
def list_users(query: UserQuery):
    conditions = _flag_conditions(UserRow, query, USER_TEXT) + _search(query.search, USERS)
    keys = sa.select(UserRow.id).where(*conditions)
    order = (UserRow.username, UserRow.id)
    page = page_of(keys, order, query, entities(
        UserRow, order, selectinload(UserRow.groups).selectinload(GroupRow.parent)))
    return page_response(page, lambda user: user_to_dict(user, query.include_groups))


retrieve_view("/core/users/", "user", find=_user_or_404, show=user_to_dict, answer=User,
              tags=TAGS, key=USER_KEY)


def _create_user(json: UserRequest | None):
    fields = model_fields(json_body(json))
    user = _refusing(accounts.AccountError, lambda: accounts.create_user(
        fields.pop("username"), email=fields.pop("email", None) or "",
        password=fields.pop("password", None), name=fields.pop("name", None) or "",
        is_superuser=bool(fields.pop("is_superuser", False)),
        is_active=fields.pop("is_active", True)))
    user.attributes = fields.get("attributes") or {}
    db.session.commit()
    return json_response(user_to_dict(user), 201)


create_view("/core/users/", "user", body=UserRequest, answer=User, create=_create_user,
            tags=TAGS)


def _update_user(user_id: int, json: UserChange | None):
    """The fields sent over the user's own, through the Directory page's update_user."""
    user = _user_or_404(user_id)
    fields = model_fields(json_body(json))
    if fields.pop("username", user.username) != user.username:
        abort(json_response({"username": [
            "Herald does not rename users: send the current username."]}, 400))
    current = {"name": user.name, "email": user.email, "is_active": user.is_active,
               "is_superuser": user.is_superuser, "attributes": user.attributes or {}}
    merged = current | {key: value for key, value in fields.items() if value is not None}
    _refusing(accounts.AccountError,
              lambda: accounts.update_user(user, actor=current_user, **merged))
    db.session.commit()
    return json_response(user_to_dict(user))


put_and_patch("/core/users/", "user", full=UserUpdate, partial=UserChange, answer=User,
              update=_update_user, tags=TAGS, key=USER_KEY)


def _delete_user(user: UserRow) -> None:
    _refusing(accounts.AccountError, lambda: accounts.delete_user(user, actor=current_user))


destroy_view("/core/users/", "user", find=_user_or_404, remove=_delete_user, tags=TAGS,
             key=USER_KEY)


@bp.get("/core/groups/")
@api.validate(query=GroupQuery, resp=Response(HTTP_200=PaginatedGroupList, **ERRORS),
              tags=TAGS)
def list_groups(query: GroupQuery):
    conditions = _flag_conditions(GroupRow, query, GROUP_TEXT) + _search(query.search, GROUPS)
    keys = sa.select(GroupRow.num_pk).where(*conditions)
    order = (GroupRow.name, GroupRow.num_pk)
    page = page_of(keys, order, query, entities(
        GroupRow, order, selectinload(GroupRow.users), selectinload(GroupRow.parent),
        selectinload(GroupRow.children)))
    return page_response(page, lambda group: group_to_dict(
        group, query.include_users, query.include_children))


@bp.get(f"/core/groups/{GROUP_KEY}/")
@api.validate(query=GroupDetailQuery, resp=Response(HTTP_200=Group, **ERRORS), tags=TAGS)
def get_group(group_id: str, query: GroupDetailQuery):
    return json_response(group_to_dict(_group_or_404(group_id), query.include_users,
                                       query.include_children))


def _create_group(json: GroupRequest | None):
    json = json_body(json)
    _check_name_free(json.name, None)
    group = groups.create_group(name=json.name, parent=_parent(json),
                                is_superuser=bool(json.is_superuser),
                                attributes=json.attributes or {})
    _set_members(group, json.users)
    db.session.commit()
    return json_response(group_to_dict(group), 201)


create_view("/core/groups/", "group", body=GroupRequest, answer=Group, create=_create_group,
            tags=TAGS)


def _update_group(group_id: str, json: GroupChange | None):
    """The fields sent over the group's own; members change only when `users` is sent."""
    group = _group_or_404(group_id)
    json = json_body(json)
    sent = model_fields(json)
    name = json.name or group.name
    _check_name_free(name, group)
    parent = _parent(json) if "parent" in sent else group.parent
    _refusing(groups.GroupError, lambda: groups.update_group(
        group, name=name, parent=parent,
        is_superuser=group.is_superuser if json.is_superuser is None else json.is_superuser,
        attributes=group.attributes if json.attributes is None else json.attributes))
    _refusing(groups.GroupError, lambda: _set_members(group, json.users))  # the last admin
    db.session.commit()
    return json_response(group_to_dict(group))


put_and_patch("/core/groups/", "group", full=GroupRequest, partial=GroupChange, answer=Group,
              update=_update_group, tags=TAGS, key=GROUP_KEY)


def _delete_group(group: GroupRow) -> None:
    _refusing(groups.GroupError, lambda: groups.delete_group(group))  # the last admin


destroy_view("/core/groups/", "group", find=_group_or_404, remove=_delete_group, tags=TAGS,
             key=GROUP_KEY)


def _parent(json: GroupChange) -> GroupRow | None:
    if json.parent is None:
        return None
    parent = db.session.scalar(sa.select(GroupRow).where(GroupRow.group_uuid == json.parent))
    if parent is None:
        abort(json_response({"parent": ["No group has this pk."]}, 400))
    return parent


def _check_name_free(name: str, group: GroupRow | None) -> None:
    taken = db.session.scalar(sa.select(GroupRow.num_pk).where(GroupRow.name == name))
    if taken is not None and (group is None or taken != group.num_pk):
        abort(json_response({"name": ["A group with this name already exists."]}, 400))


def _set_members(group: GroupRow, user_ids: list[int] | None) -> None:
    """Make the members exactly `user_ids` (None: leave them) through add/remove_member, so
    the audit records membership changes as the Directory page does."""
    if user_ids is None:
        return
    wanted = {user.id: user for user in db.session.scalars(
        sa.select(UserRow).where(UserRow.id.in_(user_ids)))}
    missing = sorted(set(user_ids) - set(wanted))
    if missing:
        abort(json_response({"users": [f"No user has pk {missing[0]}."]}, 400))
    for user in list(group.users):
        if user.id not in wanted:
            groups.remove_member(group, user)
    for user in wanted.values():
        groups.add_member(group, user)


def _refusing(error: type[Exception], action: Callable[[], Any]) -> Any:
    """Run a directory write; its refusal (a ValueError with the reason) becomes a 400."""
    try:
        return action()
    except error as exc:
        abort(json_response({"non_field_errors": [str(exc)]}, 400))

