"""Default-deny access control.

Every endpoint is an admin page unless its view is marked `@public` or `@for_any_user`, so a
new route that forgets to say who may see it is locked down rather than exposed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, request
from flask_login import current_user

from webapp.core.extensions import login_manager

PUBLIC, ANY_USER, ADMIN = "public", "any_user", "admin"
#: Everything from this origin, scripts only from files (no inline script, no eval): an
#: injected <script> or on* attribute does not run even if escaping ever failed. Inline
#: style attributes stay allowed (progress bars, htmx's indicator styles).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
_ACCESS_ATTR = "herald_access"
View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Anyone may call this view, signed in or not."""
    setattr(view, _ACCESS_ATTR, PUBLIC)
    return view


def for_any_user(view: View) -> View:
    """Any signed-in user may call this view; it must only show that user's own data."""
    setattr(view, _ACCESS_ATTR, ANY_USER)
    return view


def access_level(endpoint: str | None) -> str:
    if endpoint is None or endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, _ACCESS_ATTR, ADMIN)


def enforce_access() -> Any:
    """before_request hook: anonymous users go to the login page, non-admins get 403."""
    level = access_level(request.endpoint)
    if level == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if level == ADMIN and not current_user.is_admin:
        abort(403)
    return None


NUL_REFUSED = "The request contains a NUL character, which is never valid input."


def reject_nul_characters() -> None:
    """before_request hook: NUL never belongs in a form or query value, and PostgreSQL refuses
    it in text, so such a request is answered with a clear 400 before it reaches a query; a
    path with NUL names nothing, so it is a 404. (JSON bodies are checked by the API's
    request models: webapp/api/schemas.py `Body`.)"""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, NUL_REFUSED)
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        abort(404)


def add_security_headers(response: Response) -> Response:
    """after_request hook: the request id (shown on error pages) and browser hardening."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response
