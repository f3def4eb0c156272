"""What the Directory pages share: the blueprint, paging, htmx fragments, delete confirmation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint, current_app, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from webapp.core.extensions import db, htmx
from webapp.directory.accounts import AccountError
from webapp.directory.groups import GroupError
from webapp.forms.directory import ConfirmForm

bp = Blueprint("directory", __name__, url_prefix="/directory")
MAX_PAGE = 100_000
Crumbs = Sequence[tuple[str, str | None]]


def page_arg() -> int:
    """The ?page= number, clamped so a silly value cannot overflow the database's OFFSET."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def per_page() -> int:
    return int(current_app.config["PAGE_SIZE"])


def fragment_or_page(fragment: str, page: str, **context) -> Response:
    """htmx asks for the fragment it swaps; everyone else (and history restores) the page."""
    template = fragment if htmx and not htmx.history_restore_request else page
    response = current_app.make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


def saved(message: str, url: str) -> Response:
    """A write went through: commit it, say so, and go to `url` (post/redirect/get)."""
    db.session.commit()
    flash(message, "success")
    return redirect(url)


def confirm_delete(*, kind: str, name: str, crumbs: Crumbs, remove: Callable[[], None],
                   done_url: str, cancel_url: str, consequences: Sequence[str] = (),
                   refusal: str | None = None, verbs: tuple[str, str] = ("Delete", "Deleted")):
    """GET asks "delete this?"; a confirmed POST calls `remove`, commits and moves on.

    `refusal` explains why this object cannot be deleted; then there is no button, and a
    forged POST changes nothing. `remove` may refuse too, with the service's own error (the
    last-admin guard can only tell by trying); the page then shows its reason.
    """
    form = ConfirmForm()
    if refusal is None and form.validate_on_submit():
        try:
            remove()
        except (AccountError, GroupError) as exc:
            refusal = str(exc)
        else:
            return saved(f"{verbs[1]} {kind} {name}.", done_url)
    page = render_template("directory/confirm_delete.html", form=form, kind=kind, name=name,
                           crumbs=crumbs, cancel_url=cancel_url, consequences=consequences,
                           refusal=refusal, verb=verbs[0])
    return page, 400 if refusal and request.method == "POST" else 200
