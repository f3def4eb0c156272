"""Browser sessions: which user a session cookie stands for, and where the signed-out go."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, request, url_for
from flask_htmx import make_response as htmx_response

from webapp.core.extensions import db, htmx, login_manager
from webapp.core.lookups import MAX_ID
from webapp.models import User


def init_sessions(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def load_user(session_id: str) -> User | None:
    """The signed-in user, unless deactivated or their password changed since sign-in
    (the session id carries a fragment of the password hash: User.get_id)."""
    user_id, _, fragment = session_id.partition(":")
    if not user_id.isdigit() or not 0 < int(user_id) <= MAX_ID:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_fragment != fragment:
        return None
    return user


def unauthorized():
    """JSON for the API, an HX-Redirect for htmx swaps, a redirect with a message otherwise."""
    if request.path.startswith("/api/"):  # DRF's answer, which authentik clients expect
        return (jsonify({"detail": "Authentication credentials were not provided."}), 401,
                {"WWW-Authenticate": 'Bearer realm="herald"'})
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if htmx:
        return htmx_response("", 401, redirect=login_url)
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url)
