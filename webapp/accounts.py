"""Creating users and tokens: shared by the CLI, bootstrap and (later) the directory pages."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Group, Token, User

ADMINS_GROUP = "admins"


class AccountError(ValueError):
    """A user or token cannot be created as asked; the message says why."""


def create_user(username: str, *, email: str = "", password: str | None = None,
                is_superuser: bool = False, name: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("A username is 1 to 150 characters long.")
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username)
                                                  == username.lower())):
        raise AccountError(f"A user named '{username}' already exists.")
    user = User(username=username, email=email.strip(), name=name, is_superuser=is_superuser)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_token(user: User, *, identifier: str | None = None, key: str | None = None,
                 description: str = "", expires: datetime | None = None) -> tuple[Token, str]:
    """A new token and its key; the key is returned once and only its hash is stored."""
    key = key or secrets.token_urlsafe(48)
    token = Token(identifier=identifier or f"{user.username}-{secrets.token_hex(4)}",
                  key_hash=Token.hash_key(key), key_prefix=key[:8], user=user,
                  description=description, expires=expires)
    db.session.add(token)
    db.session.flush()
    return token, key


def ensure_admins_group(*members: User) -> Group:
    group = db.session.scalar(sa.select(Group).where(Group.name == ADMINS_GROUP))
    if group is None:
        group = Group(name=ADMINS_GROUP, is_superuser=True)
        db.session.add(group)
    for member in members:
        if member not in group.users:
            group.users.append(member)
    db.session.flush()
    return group


def any_user_exists() -> bool:
    return db.session.scalar(sa.select(User.id).limit(1)) is not None
