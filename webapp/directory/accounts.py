"""Users and API tokens: the writes and lists shared by the CLI, bootstrap and the Directory.

These functions change ORM objects and leave the commit to the caller; the audit hooks turn
the changes into model_* events, so nothing here records those itself.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import selectinload

from webapp.core.extensions import db
from webapp.directory.admins import keeping_an_admin
from webapp.directory.name_search import USERS
from webapp.events import record
from webapp.models import EventAction, Group, Token, User

ADMINS_GROUP = "admins"


class AccountError(ValueError):
    """A user or token cannot be created or changed as asked; the message says why."""


def create_user(username: str, *, email: str = "", password: str | None = None,
                is_superuser: bool = False, name: str = "", is_active: bool = True) -> User:
    username = username.strip()
    if not username or len(username) > 150:
        raise AccountError("A username is 1 to 150 characters long.")
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username)
                                                  == username.lower())):
        raise AccountError(f"A user named '{username}' already exists.")
    user = User(username=username, email=email.strip(), name=name, is_superuser=is_superuser,
                is_active=is_active)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, actor: User, name: str, email: str, is_active: bool,
                is_superuser: bool, attributes: dict[str, Any]) -> None:
    """An administrator's edit. Nobody can lock themselves out: your own account stays
    active and superuser, so there is always someone left who can undo a mistake; and no edit
    may demote or deactivate the last administrator (webapp.directory.admins)."""
    if user.id == actor.id and not is_active:
        raise AccountError("You cannot deactivate your own account; ask another "
                           "administrator.")
    if user.id == actor.id and not is_superuser:
        raise AccountError("You cannot remove the superuser flag from your own account; ask "
                           "another administrator.")

    def change() -> None:
        user.name, user.email = name, email
        user.is_active, user.is_superuser = is_active, is_superuser
        user.attributes = attributes

    keeping_an_admin(change, AccountError)


def set_password_by_admin(user: User, password: str) -> None:
    """Records password_set naming the account; the actor is whoever is signed in."""
    user.set_password(password)
    record(EventAction.PASSWORD_SET, {"user": user, "method": "admin"})


def delete_refusal(user: User, *, actor: User) -> str | None:
    """Why `actor` may not delete `user`, or None when they may."""
    if user.id == actor.id:
        return "You cannot delete your own account; ask another administrator."
    return None


def delete_user(user: User, *, actor: User) -> None:
    refusal = delete_refusal(user, actor=actor)
    if refusal:
        raise AccountError(refusal)
    keeping_an_admin(lambda: db.session.delete(user), AccountError)


def user_page(search: str, page: int, per_page: int) -> Pagination:
    """Users whose username, name or email contains `search`, by username (the name index
    answers it, so a search among 100,000 users reads only the matches)."""
    query = sa.select(User).options(selectinload(User.groups)).order_by(User.username)
    return db.paginate(query.where(USERS.containing(search)), page=page, per_page=per_page,
                       error_out=False)


def create_token(user: User, *, identifier: str | None = None, key: str | None = None,
                 description: str = "", expires: datetime | None = None) -> tuple[Token, str]:
    """A new token and its key; the key is returned once and only its hash is stored."""
    identifier = identifier or f"{user.username}-{secrets.token_hex(4)}"
    if db.session.scalar(sa.select(Token.id).where(Token.identifier == identifier)):
        raise AccountError(f"A token named '{identifier}' already exists.")
    key = key or secrets.token_urlsafe(48)
    token = Token(identifier=identifier, key_hash=Token.hash_key(key), key_prefix=key[:8],
                  user=user, description=description, expires=expires)
    db.session.add(token)
    db.session.flush()
    return token, key


def token_page(page: int, per_page: int) -> Pagination:
    query = sa.select(Token).options(selectinload(Token.user)).order_by(Token.created.desc(),
                                                                        Token.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


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
