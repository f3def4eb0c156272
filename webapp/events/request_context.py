"""What an event learns from the HTTP request it was recorded in."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user

from webapp.events.sanitize import cleanse

MAX_ARGS, MAX_KEY, MAX_TEXT = 50, 100, 1000
ANONYMOUS_USER: dict[str, Any] = {"username": "AnonymousUser", "email": "", "is_anonymous": True}


def request_id() -> str:
    """A per-request id, shown on error pages and written into every event of the request."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def user_reference(user: Any) -> dict[str, Any]:
    """`{pk, username, email}` for a user, the anonymous marker for nobody."""
    if user is None or not getattr(user, "is_authenticated", False):
        return dict(ANONYMOUS_USER)
    return {"pk": user.id, "username": user.username, "email": user.email}


def client_ip() -> str | None:
    """The peer address. X-Forwarded-For is honoured only through HERALD_TRUSTED_PROXIES hops,
    which ProxyFix applies to remote_addr in the app factory; otherwise anyone could spoof it."""
    return normalise_ip(request.remote_addr)


def normalise_ip(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def http_request_context() -> dict[str, Any]:
    """The request, bounded: anyone can send a huge query string, and events must stay small."""
    args = dict(list(request.args.items())[:MAX_ARGS])
    return {
        "path": request.path[:MAX_TEXT],
        "method": request.method,
        "args": cleanse({key[:MAX_KEY]: value[:MAX_TEXT] for key, value in args.items()}),
        "user_agent": request.user_agent.string[:MAX_TEXT],
        "request_id": request_id(),
    }


def request_defaults() -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
    """(user, client_ip, http_request) of the current request, or Nones outside one."""
    if not has_request_context():
        return None, None, None
    return user_reference(current_user), client_ip(), http_request_context()
