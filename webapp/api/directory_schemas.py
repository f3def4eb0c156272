"""Users, groups and tokens as authentik 2025.10 shows them (the Elastic integration parses
users and groups in exactly these shapes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.pagination import PageQuery, Paginated
from webapp.api.schemas import Body, JSONObject
from webapp.models import UserType

UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]
UserTypeName = Literal[tuple(UserType)]  # type: ignore[valid-type]
#: authentik's token intents; Herald's API tokens are all `api`.
IntentName = Literal["verification", "api", "recovery", "app_password"]


class PartialUser(BaseModel):
    """A user inside another object (a group's members, a binding's user)."""

    pk: int
    username: str
    name: str
    is_active: bool
    last_login: datetime | None
    email: str
    attributes: JSONObject
    uid: str


class PartialGroup(BaseModel):
    """A group inside another object (a user's groups, a binding's group)."""

    pk: uuid.UUID
    num_pk: int
    name: str
    is_superuser: bool
    parent: uuid.UUID | None
    parent_name: str | None
    attributes: JSONObject


class GroupChild(BaseModel):
    pk: uuid.UUID
    name: str
    is_superuser: bool
    attributes: JSONObject
    group_uuid: uuid.UUID


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
    groups_obj: list[PartialGroup] | None
    email: str
    avatar: str
    attributes: JSONObject
    uid: str
    path: str
    type: UserTypeName
    uuid: uuid.UUID
    password_change_date: datetime
    last_updated: datetime


class Group(PartialGroup):
    users: list[int]
    users_obj: list[PartialUser] | None = Field(description="null with include_users=false")
    roles: list[uuid.UUID]
    roles_obj: list[Role]
    children: list[uuid.UUID]
    children_obj: list[GroupChild] | None = Field(
        description="null unless include_children=true")


class PaginatedUserList(Paginated):
    results: list[User]


class PaginatedGroupList(Paginated):
    results: list[Group]


class UserQuery(PageQuery):
    include_groups: bool = True
    username: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    is_superuser: bool | None = None
    search: str | None = Field(None, max_length=255)


class GroupDetailQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_users: bool = True
    include_children: bool = False


class GroupQuery(PageQuery, GroupDetailQuery):
    name: str | None = Field(None, max_length=150)
    is_superuser: bool | None = None
    search: str | None = Field(None, max_length=255)


class UserChange(Body):
    """PATCH: only the fields sent change."""

    username: str | None = Field(None, min_length=1, max_length=150,
                                 description="Herald does not rename users: the current one")
    name: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    is_superuser: bool | None = None
    attributes: JSONObject | None = None


class UserUpdate(UserChange):
    """PUT: authentik's required fields must be sent; the others not sent stay as they are."""

    username: str = Field(min_length=1, max_length=150,
                          description="Herald does not rename users: the current one")
    name: str = Field(max_length=255)


class UserRequest(UserUpdate):
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
    pk: uuid.UUID
    managed: str | None
    identifier: str
    intent: IntentName
    user: int
    user_obj: User
    description: str
    expires: datetime | None
    expiring: bool
    last_used: datetime | None


class TokenWithKey(Token):
    key: str = Field(description="Shown once: only its hash is stored")


class PaginatedTokenList(Paginated):
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


