"""The delete confirmation the notification pages share: what goes, what stays, one POST."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import flash, redirect, render_template

from webapp.core.extensions import db
from webapp.forms.directory import ConfirmForm

Crumbs = Sequence[tuple[str, str | None]]


def confirm_delete(*, kind: str, name: str, crumbs: Crumbs, remove: Callable[[], None],
                   done_url: str, cancel_url: str, consequences: Sequence[str] = (),
                   template: str = "notifications/confirm_delete.html", **context: Any):
    """GET asks "delete this?"; a confirmed POST calls `remove`, commits and moves on.
    `template` may extend the shared page to tell its consequences its own way. (The
    Directory's page has the Directory's breadcrumbs; this one takes them whole.)"""
    form = ConfirmForm()
    if form.validate_on_submit():
        remove()
        db.session.commit()
        flash(f"Deleted {kind} {name}.", "success")
        return redirect(done_url)
    return render_template(template, form=form, kind=kind, name=name, crumbs=crumbs,
                           cancel_url=cancel_url, consequences=consequences, **context)
