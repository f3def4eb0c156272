"""Users, groups and API tokens."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.core.db_types import PortableJSON, UTCDateTime, utcnow
from webapp.core.extensions import db

group_membership = sa.Table(
    "group_membership",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("groups.num_pk", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class UserType(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"
    SERVICE_ACCOUNT = "service_account"
    INTERNAL_SERVICE_ACCOUNT = "internal_service_account"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse an id (events keep them)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="", index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)  # type: ignore[assignment]
    is_superuser: Mapped[bool] = mapped_column(default=False)
    type: Mapped[str] = mapped_column(sa.String(40), default=UserType.INTERNAL.value)
    path: Mapped[str] = mapped_column(sa.String(255), default="users")
    attributes: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_change_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Any change to the row, sign-ins included, as authentik's `last_updated` (its API
    #: clients require it).
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary=group_membership, back_populates="users", order_by="Group.name"
    )
    tokens: Mapped[list[Token]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def pk(self) -> int:
        return self.id

    @property
    def uid(self) -> str:
        """A stable, opaque identifier (authentik exposes a SHA-256 of the user's identity)."""
        return hashlib.sha256(f"herald-user-{self.uuid}".encode()).hexdigest()

    @property
    def is_admin(self) -> bool:
        """Administrator by their own flag, or as a member of a superuser group or of any
        group below one (authentik's rule: groups pass rights down to their subgroups)."""
        return self.is_superuser or any(group.is_superuser for group in self.all_groups())

    def all_groups(self) -> list[Group]:
        """The user's groups and all their ancestors, each once (a cycle cannot loop)."""
        seen: dict[int, Group] = {}
        pending = list(self.groups)
        while pending:
            group = pending.pop()
            if group.num_pk not in seen:
                seen[group.num_pk] = group
                if group.parent is not None:
                    pending.append(group.parent)
        return list(seen.values())

    def get_id(self) -> str:
        """Flask-Login's session id: the user's id plus a fragment of the password hash, so
        changing or resetting a password signs out every other session of that user."""
        return f"{self.id}:{self.session_fragment}"

    @property
    def session_fragment(self) -> str:
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password,
                                                    method=current_app.config["PASSWORD_HASH"])
        self.password_change_date = utcnow()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Group(db.Model):
    __tablename__ = "groups"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse an id (events keep them)

    num_pk: Mapped[int] = mapped_column(primary_key=True)
    group_uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("groups.num_pk", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)

    parent: Mapped[Group | None] = relationship(remote_side=[num_pk], back_populates="children")
    children: Mapped[list[Group]] = relationship(back_populates="parent")
    users: Mapped[list[User]] = relationship(
        secondary=group_membership, back_populates="groups", order_by="User.username"
    )

    @property
    def pk(self) -> str:
        return str(self.group_uuid)

    def __repr__(self) -> str:
        return f"<Group {self.name}>"


class Token(db.Model):
    """An API token. Only a SHA-256 of the key is stored; the key is shown once."""

    __tablename__ = "tokens"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse an id (events keep them)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The pk authentik's API shows for a token (Herald's own references use `id`).
    token_uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    identifier: Mapped[str] = mapped_column(sa.String(255), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(12))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    intent: Mapped[str] = mapped_column(sa.String(40), default="api")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def pk(self) -> int:
        return self.id

    @property
    def name(self) -> str:
        return self.identifier

    @staticmethod
    def hash_key(key: str) -> str:
        """Keys are long random strings, so a fast unsalted hash is safe and allows lookup."""
        return hashlib.sha256(key.encode()).hexdigest()

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or utcnow())

    def __repr__(self) -> str:
        return f"<Token {self.identifier}>"
