"""Directory objects as authentik's serializers write them (events use
webapp/events/serialize.py, which the JSON log line shares)."""

from __future__ import annotations

from typing import Any

from webapp.events.sanitize import iso_utc
from webapp.models import Group, Token, User


def _moment(value: Any) -> str | None:
    return iso_utc(value) if value is not None else None


def partial_user_to_dict(user: User) -> dict[str, Any]:
    """authentik's PartialUser: a group's members, a binding's user."""
    return {"pk": user.id, "username": user.username, "name": user.name,
            "is_active": user.is_active, "last_login": _moment(user.last_login),
            "email": user.email, "attributes": user.attributes or {}, "uid": user.uid}


def partial_group_to_dict(group: Group) -> dict[str, Any]:
    """authentik's PartialGroup: a user's groups, a binding's group."""
    parent = group.parent
    return {"pk": group.pk, "num_pk": group.num_pk, "name": group.name,
            "is_superuser": group.is_superuser, "parent": parent.pk if parent else None,
            "parent_name": parent.name if parent else None,
            "attributes": group.attributes or {}}


def user_to_dict(user: User, include_groups: bool = True) -> dict[str, Any]:
    return {
        **partial_user_to_dict(user),
        "date_joined": _moment(user.date_joined),
        "is_superuser": user.is_superuser,
        "groups": [group.pk for group in user.groups],
        "groups_obj": ([partial_group_to_dict(group) for group in user.groups]
                       if include_groups else None),
        "avatar": "",
        "path": user.path,
        "type": user.type,
        "uuid": str(user.uuid),
        # authentik stamps it when the account is made; Herald leaves it empty until a
        # password is set, so an account that never had one reports its creation.
        "password_change_date": _moment(user.password_change_date or user.date_joined),
        "last_updated": _moment(user.last_updated),
    }


def group_to_dict(group: Group, include_users: bool = True,
                  include_children: bool = False) -> dict[str, Any]:
    return {
        **partial_group_to_dict(group),
        "users": [user.id for user in group.users],
        "users_obj": ([partial_user_to_dict(user) for user in group.users]
                      if include_users else None),
        "roles": [],
        "roles_obj": [],
        "children": [child.pk for child in _children(group)],
        "children_obj": ([_group_child_to_dict(child) for child in _children(group)]
                         if include_children else None),
    }


def _children(group: Group) -> list[Group]:
    """By name, so a group serializes to the same bytes whatever order the rows came in."""
    return sorted(group.children, key=lambda child: child.name)


def _group_child_to_dict(child: Group) -> dict[str, Any]:
    return {"pk": child.pk, "name": child.name, "is_superuser": child.is_superuser,
            "attributes": child.attributes or {}, "group_uuid": child.pk}


def token_to_dict(token: Token) -> dict[str, Any]:
    return {"pk": str(token.token_uuid), "managed": None, "identifier": token.identifier,
            "intent": token.intent, "user": token.user_id,
            "user_obj": user_to_dict(token.user), "description": token.description,
            "expires": _moment(token.expires), "expiring": token.expires is not None,
            "last_used": _moment(token.last_used)}
