"""Bearer tokens: `Authorization: Bearer <key>` signs a request in as the token's user.

A request that presents a token is authenticated by the token alone, so it needs no CSRF
token (a browser never adds this header by itself). A wrong, expired or orphaned token is a
suspicious_request event and no sign-in; the key itself never reaches the event or the log.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Request, g, request

from webapp.core.db_types import utcnow
from webapp.core.extensions import csrf, db, login_manager
from webapp.events import record
from webapp.models import EventAction, Token, User

SCHEME = "bearer"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def presented_key(req: Request) -> str | None:
    scheme, _, key = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != SCHEME:
        return None
    return key.strip() or None


def authenticate_request() -> None:
    """before_request hook replacing Flask-WTF's blanket check. A browser request must carry
    a CSRF token. A bearer request is the token's user, or anonymous, whatever session cookie
    comes along; only a token that really authenticated stands in for the CSRF token."""
    key = presented_key(request)
    if key is None:
        if request.endpoint is not None:  # an unknown URL is a plain 404, not a CSRF alarm
            csrf.protect()
        return
    user = user_for_key(key)
    g._login_user = user or login_manager.anonymous_user()  # what current_user reads
    g.csrf_valid = user is not None  # as csrf.protect() marks it: forms skip their own check


def user_for_key(key: str) -> User | None:
    """The token's user, or None (and a suspicious_request event) if the token is unusable."""
    token = db.session.scalar(sa.select(Token).where(Token.key_hash == Token.hash_key(key)))
    problem = _problem_with(token)
    if problem:
        record(EventAction.SUSPICIOUS_REQUEST, {"reason": problem})
        db.session.commit()
        return None
    now = utcnow()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        token.last_used = now  # not on every call: a busy client would write on each request
        db.session.commit()
    return token.user


def _problem_with(token: Token | None) -> str | None:
    if token is None or token.user is None:
        return "invalid_token"
    if token.is_expired():
        return "expired_token"
    if not token.user.is_active:
        return "inactive_token_user"
    return None
