"""Directory > Users: list and search, create, edit, set a password, delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request, url_for
from flask_login import current_user

from webapp.core.extensions import db
from webapp.core.lookups import get_or_404
from webapp.directory.accounts import (
    AccountError,
    create_user,
    delete_refusal,
    delete_user,
    set_password_by_admin,
    update_user,
    user_page,
)
from webapp.forms.directory import SetPasswordForm, UserCreateForm, UserEditForm
from webapp.models import Event, User
from webapp.views.directory.common import (
    bp,
    confirm_delete,
    fragment_or_page,
    page_arg,
    per_page,
    saved,
)

MAX_SEARCH_LENGTH = 150
RECENT_EVENTS = 10


@bp.get("/users")
def users():
    search = request.args.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    return fragment_or_page("directory/_user_table.html", "directory/users.html",
                            pagination=user_page(search, page_arg(), per_page()), search=search)


@bp.route("/users/new", methods=["GET", "POST"])
def user_create():
    form = UserCreateForm()
    if form.validate_on_submit():
        user = create_user(form.username.data, email=form.email.data, name=form.name.data,
                           password=form.password.data or None, is_active=form.is_active.data,
                           is_superuser=form.is_superuser.data)
        return saved(f"Created user {user.username}.",
                     url_for("directory.user_detail", user_id=user.id))
    return render_template("directory/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_detail(user_id: int):
    user = get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(user, actor=current_user, name=form.name.data, email=form.email.data,
                        is_active=form.is_active.data, is_superuser=form.is_superuser.data,
                        attributes=form.attributes.data)
        except AccountError as exc:
            form.form_errors.append(str(exc))
        else:
            return saved(f"Saved the changes to {user.username}.",
                         url_for("directory.user_detail", user_id=user.id))
    return _user_page(user, form, SetPasswordForm(formdata=None))


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    user = get_or_404(User, user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        set_password_by_admin(user, form.new_password.data)
        return saved(f"Set a new password for {user.username}.",
                     url_for("directory.user_detail", user_id=user.id))
    return _user_page(user, UserEditForm(obj=user, formdata=None), form)


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def user_delete(user_id: int):
    user = get_or_404(User, user_id)
    detail_url = url_for("directory.user_detail", user_id=user.id)
    return confirm_delete(
        kind="user", name=user.username, remove=lambda: delete_user(user, actor=current_user),
        crumbs=[("Users", url_for("directory.users")), (user.username, detail_url),
                ("Delete", None)],
        done_url=url_for("directory.users"), cancel_url=detail_url,
        consequences=[f"Their {len(user.tokens)} API token(s) stop working and are deleted.",
                      f"They leave {len(user.groups)} group(s).",
                      "Their past events stay in the log."],
        refusal=delete_refusal(user, actor=current_user))


def _user_page(user: User, form: UserEditForm, password_form: SetPasswordForm):
    events = db.session.scalars(sa.select(Event).where(Event.user_pk == user.id)
                                .order_by(Event.created.desc(), Event.event_uuid.desc())
                                .limit(RECENT_EVENTS))
    return render_template("directory/user_detail.html", user=user, form=form,
                           password_form=password_form, events=list(events),
                           is_self=user.id == current_user.id)
