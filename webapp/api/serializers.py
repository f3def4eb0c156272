"""Directory objects as authentik's serializers write them (events use
webapp/events/serialize.py, which the JSON log line shares)."""

from __future__ import annotations

from typing import Any

from webapp.events.sanitize import iso_utc
from webapp.models import Group, Token, User


def _moment(value: Any) -> str | None:
    return iso_utc(value) if value is not None else None


def member_to_dict(user: User) -> dict[str, Any]:
    return {"pk": user.id, "username": user.username, "name": user.name,
            "is_active": user.is_active, "last_login": _moment(user.last_login),
            "email": user.email, "attributes": user.attributes or {}, "uid": user.uid}


def user_group_to_dict(group: Group) -> dict[str, Any]:
    parent = group.parent
    return {"pk": group.pk, "num_pk": group.num_pk, "name": group.name,
            "is_superuser": group.is_superuser, "parent": parent.pk if parent else None,
            "parent_name": parent.name if parent else None,
            "attributes": group.attributes or {}}


def user_to_dict(user: User, include_groups: bool = True) -> dict[str, Any]:
    return {
        **member_to_dict(user),
        "date_joined": _moment(user.date_joined),
        "is_superuser": user.is_superuser,
        "groups": [group.pk for group in user.groups],
        "groups_obj": ([user_group_to_dict(group) for group in user.groups]
                       if include_groups else None),
        "avatar": "",
        "path": user.path,
        "type": user.type,
        "uuid": str(user.uuid),
        "password_change_date": _moment(user.password_change_date),
    }


def group_to_dict(group: Group, include_users: bool = True) -> dict[str, Any]:
    return {
        **user_group_to_dict(group),
        "users": [user.id for user in group.users],
        "users_obj": [member_to_dict(user) for user in group.users] if include_users else None,
        "roles": [],
        "roles_obj": [],
    }


def token_to_dict(token: Token) -> dict[str, Any]:
    return {"pk": token.id, "managed": None, "identifier": token.identifier,
            "intent": token.intent, "user": token.user_id,
            "user_obj": member_to_dict(token.user), "description": token.description,
            "expires": _moment(token.expires), "expiring": token.expires is not None,
            "last_used": _moment(token.last_used)}
