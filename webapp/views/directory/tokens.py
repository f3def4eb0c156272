"""Directory > Tokens: list, create (the key is shown once, on the answer to the POST), revoke."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.core.lookups import get_or_404
from webapp.directory.accounts import create_token, token_page
from webapp.forms.directory import TokenForm
from webapp.models import Token
from webapp.views.directory.common import bp, confirm_delete, page_arg, per_page


@bp.get("/tokens")
def tokens():
    return render_template("directory/tokens.html", pagination=token_page(page_arg(), per_page()),
                           now=utcnow())


@bp.route("/tokens/new", methods=["GET", "POST"])
def token_create():
    form = TokenForm()
    if not form.validate_on_submit():
        return render_template("directory/token_new.html", form=form)
    token, key = create_token(form.user_id.picked, identifier=form.identifier.data,
                              description=form.description.data, expires=form.expires.data)
    db.session.commit()
    # The key exists only in this response: never stored, never redirected through a cookie.
    response = current_app.make_response(render_template("directory/token_created.html",
                                                         token=token, key=key))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens/<int:token_id>/delete", methods=["GET", "POST"])
def token_delete(token_id: int):
    token = get_or_404(Token, token_id)
    return confirm_delete(
        kind="token", name=token.identifier, remove=lambda: db.session.delete(token),
        crumbs=[("Tokens", url_for("directory.tokens")), (token.identifier, None),
                ("Revoke", None)],
        done_url=url_for("directory.tokens"), cancel_url=url_for("directory.tokens"),
        consequences=[f"Programs using it as {token.user.username} get 403 from now on.",
                      "This cannot be undone; create a new token if you need one again."],
        verbs=("Revoke", "Revoked"))
