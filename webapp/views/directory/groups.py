"""Directory > Groups: list, create, edit (parent without cycles), members, delete."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from webapp.core.extensions import db, htmx
from webapp.core.lookups import get_or_404
from webapp.directory.groups import (
    GroupError,
    add_member,
    create_group,
    delete_group,
    group_page,
    refused_parent_ids,
    remove_member,
    update_group,
)
from webapp.forms.directory import GroupForm, MemberForm
from webapp.models import Group, User
from webapp.views.directory.common import bp, confirm_delete, page_arg, per_page, saved


@bp.get("/groups")
def groups():
    return render_template("directory/groups.html", pagination=group_page(page_arg(), per_page()))


@bp.route("/groups/new", methods=["GET", "POST"])
def group_create():
    form = _group_form(None)
    if form.validate_on_submit():
        group = create_group(name=form.name.data, parent=form.parent_id.picked,
                             is_superuser=form.is_superuser.data,
                             attributes=form.attributes.data)
        return saved(f"Created group {group.name}.",
                     url_for("directory.group_detail", group_id=group.num_pk))
    return render_template("directory/group_new.html", form=form)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group_detail(group_id: int):
    group = get_or_404(Group, group_id)
    form = _group_form(group)
    if form.validate_on_submit():
        try:
            update_group(group, name=form.name.data, parent=form.parent_id.picked,
                         is_superuser=form.is_superuser.data, attributes=form.attributes.data)
        except GroupError as exc:
            form.form_errors.append(str(exc))
        else:
            return saved(f"Saved the changes to {group.name}.",
                         url_for("directory.group_detail", group_id=group.num_pk))
    return _group_page(group, form, _member_form(group, formdata=None))


@bp.post("/groups/<int:group_id>/members")
def group_member_add(group_id: int):
    group = get_or_404(Group, group_id)
    form = _member_form(group)
    if not form.validate_on_submit():
        if htmx:
            return _members_fragment(group, form)
        return _group_page(group, _group_form(group, formdata=None), form)
    user = form.user_id.picked
    add_member(group, user)
    db.session.commit()
    return _members_changed(group, f"Added {user.username} to {group.name}.")


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
def group_member_remove(group_id: int, user_id: int):
    group = get_or_404(Group, group_id)
    user = get_or_404(User, user_id)
    try:
        removed = remove_member(group, user)
    except GroupError as exc:
        return _members_changed(group, f"{user.username} stays in {group.name}. {exc}",
                                refused=True)
    db.session.commit()
    return _members_changed(group, f"Removed {user.username} from {group.name}." if removed
                            else f"{user.username} was not a member of {group.name}.")


@bp.route("/groups/<int:group_id>/delete", methods=["GET", "POST"])
def group_delete(group_id: int):
    group = get_or_404(Group, group_id)
    detail_url = url_for("directory.group_detail", group_id=group.num_pk)
    return confirm_delete(
        kind="group", name=group.name, remove=lambda: delete_group(group),
        crumbs=[("Groups", url_for("directory.groups")), (group.name, detail_url),
                ("Delete", None)],
        done_url=url_for("directory.groups"), cancel_url=detail_url,
        consequences=[f"Its {len(group.users)} member(s) leave the group; their accounts stay.",
                      f"Its {len(group.children)} subgroup(s) move to the top level."])


def _group_form(group: Group | None, **kwargs) -> GroupForm:
    return GroupForm(obj=group, group=group, refused=refused_parent_ids(group), **kwargs)


def _member_form(group: Group, **kwargs) -> MemberForm:
    return MemberForm(group=group, **kwargs)


def _members_changed(group: Group, message: str, refused: bool = False):
    """htmx swaps the member list in place; a plain form post goes back to the group page."""
    if htmx:
        return _members_fragment(group, _member_form(group, formdata=None), message, refused)
    flash(message, "danger" if refused else "success")
    return redirect(url_for("directory.group_detail", group_id=group.num_pk))


def _members_fragment(group: Group, member_form: MemberForm, message: str | None = None,
                      refused: bool = False):
    return render_template("directory/_members.html", group=group, member_form=member_form,
                           message=message, refused=refused)


def _group_page(group: Group, form: GroupForm, member_form: MemberForm):
    return render_template("directory/group_detail.html", group=group, form=form,
                           member_form=member_form)
