"""Sign in, sign out, and changing one's own password."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.directory.auth_throttle import seconds_until_allowed
from webapp.events import record
from webapp.events.request_context import client_ip
from webapp.forms.auth import ChangePasswordForm, LoginForm
from webapp.models import EventAction, User
from webapp.web.security import for_any_user, public

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    username = form.username.data.strip()
    user = find_user(username)
    wait = seconds_until_allowed(username, user, client_ip())
    if wait:
        minutes = max(1, round(wait / 60))
        form.form_errors.append(
            f"Too many failed sign-in attempts for this account or address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        return render_template("auth/login.html", form=form), 429
    if not password_matches(user, form.password.data):
        record(EventAction.LOGIN_FAILED, {"username": username})
        db.session.commit()
        form.form_errors.append("Invalid username or password.")
        return render_template("auth/login.html", form=form)
    login_user(user)
    user.last_login = utcnow()
    record(EventAction.LOGIN, {"auth_method": "password", "auth_method_args": {}}, user=user)
    db.session.commit()
    return redirect(safe_next(form.next.data) or home_url())


@bp.route("/logout", methods=["POST"])
@for_any_user
def logout():
    record(EventAction.LOGOUT)
    db.session.commit()
    logout_user()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@for_any_user
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors = ["The current password is not correct."]
        else:
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)
            record(EventAction.PASSWORD_SET, {"method": "self_service"})
            db.session.commit()
            login_user(user)  # this session carries on; the user's other sessions end
            flash("Your password has been changed.", "success")
            return redirect(url_for("auth.change_password"))
    return render_template("auth/password.html", form=form)


def password_matches(user: User | None, password: str) -> bool:
    """Always pays for one password hash check, so the answer's timing does not tell whether
    the account exists or is active."""
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH"]), password)
        return False
    return user.check_password(password)


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash as costly to check as a real user's (made once per method)."""
    return generate_password_hash("not-a-real-password", method=method)


def find_user(login: str) -> User | None:
    """By username, else by email (both case-insensitive)."""
    needle = login.lower()
    by_name = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == needle))
    if by_name is not None or "@" not in login:
        return by_name
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == needle).order_by(User.id).limit(1)
    )


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after login is a phishing tool."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    return target


def home_url() -> str:
    """Administrators land on the Overview; everyone else on their own notifications."""
    if current_user.is_authenticated and current_user.is_admin:
        return url_for("overview.index")
    return url_for("notifications.index")
