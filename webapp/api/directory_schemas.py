"""Users, groups and tokens as authentik 2025.10 shows them (the Elastic integration parses
users and groups in exactly these shapes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from webapp.api.pagination import PageQuery, Pagination
from webapp.api.schemas import Body, JSONObject

UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class GroupMember(BaseModel):
    pk: int
    username: str
    name: str
    is_active: bool
    last_login: datetime | None
    email: str
    attributes: JSONObject
    uid: str


class UserGroup(BaseModel):
    pk: uuid.UUID
    num_pk: int
    name: str
    is_superuser: bool
    parent: uuid.UUID | None
    parent_name: str | None
    attributes: JSONObject


class Role(BaseModel):
    pk: uuid.UUID
    name: str


class User(BaseModel):
    pk: int
    username: str
    name: str
    is_active: bool
    last_login: datetime | None
    date_joined: datetime
    is_superuser: bool
    groups: list[uuid.UUID]
    groups_obj: list[UserGroup] | None
    email: str
    avatar: str
    attributes: JSONObject
    uid: str
    path: str
    type: str
    uuid: uuid.UUID
    password_change_date: datetime | None


class Group(UserGroup):
    users: list[int]
    users_obj: list[GroupMember] | None
    roles: list[uuid.UUID]
    roles_obj: list[Role]


class PaginatedUserList(BaseModel):
    pagination: Pagination
    results: list[User]


class PaginatedGroupList(BaseModel):
    pagination: Pagination
    results: list[Group]


class UserQuery(PageQuery):
    include_groups: bool = True
    username: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    is_superuser: bool | None = None
    search: str | None = Field(None, max_length=255)


class GroupQuery(PageQuery):
    include_users: bool = True
    name: str | None = Field(None, max_length=150)
    is_superuser: bool | None = None
    search: str | None = Field(None, max_length=255)


class UserChange(Body):
    """PATCH: only the fields sent change (PUT sends them all)."""

    name: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    is_superuser: bool | None = None
    attributes: JSONObject | None = None


class UserRequest(UserChange):
    username: str = Field(min_length=1, max_length=150)
    password: str | None = Field(None, min_length=8, max_length=1024)


class GroupChange(Body):
    name: str | None = Field(None, min_length=1, max_length=150)
    parent: uuid.UUID | None = None
    is_superuser: bool | None = None
    attributes: JSONObject | None = None
    users: list[UserId] | None = None


class GroupRequest(GroupChange):
    name: str = Field(min_length=1, max_length=150)


class Token(BaseModel):
    pk: int
    managed: str | None
    identifier: str
    intent: str
    user: int
    user_obj: GroupMember
    description: str
    expires: datetime | None
    expiring: bool
    last_used: datetime | None


class TokenWithKey(Token):
    key: str = Field(description="Shown once: only its hash is stored")


class PaginatedTokenList(BaseModel):
    pagination: Pagination
    results: list[Token]


class TokenRequest(Body):
    identifier: str = Field(min_length=1, max_length=255, pattern=r"^[-\w.]+$")
    description: str = Field("", max_length=500)
    expires: datetime | None = None
    expiring: bool | None = None
    intent: str = Field("api", pattern="^api$")


def model_fields(model: BaseModel) -> dict[str, Any]:
    """The fields a client actually sent."""
    return model.model_dump(exclude_unset=True)


