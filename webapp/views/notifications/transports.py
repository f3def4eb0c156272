"""Events > Notification Transports: list, create, edit, delete, and the Test button."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from webapp.core.extensions import db, htmx
from webapp.core.lookups import get_or_404
from webapp.forms.transports import TransportForm
from webapp.models import NotificationTransport, TransportMode, User, WebhookMapping
from webapp.notifications.transport_admin import (
    create_transport,
    rules_using,
    send_test,
    transport_rows,
    update_transport,
)
from webapp.views.notifications.confirm import confirm_delete

bp = Blueprint("transports", __name__, url_prefix="/events/transports")
#: The bell listens for this HX-Trigger event (DESIGN.md, Browser).
BELL_REFRESH = "notifications-changed"


@bp.get("/")
def index():
    return render_template("transports/index.html", rows=transport_rows())


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _form(None)
    if form.validate_on_submit():
        transport = create_transport(form.settings())
        db.session.commit()
        flash(f"Created transport {transport.name}. Press Test to try it.", "success")
        return redirect(url_for("transports.index"))
    return _form_page(form, None)


@bp.route("/<int:transport_id>", methods=["GET", "POST"])
def edit(transport_id: int):
    transport = get_or_404(NotificationTransport, transport_id)
    form = _form(transport)
    if form.validate_on_submit():
        update_transport(transport, form.settings())
        db.session.commit()
        flash(f"Saved the changes to {transport.name}.", "success")
        return redirect(url_for("transports.edit", transport_id=transport.id))
    return _form_page(form, transport)


@bp.post("/<int:transport_id>/test")
def test(transport_id: int):
    """htmx swaps the outcome in next to the button; without htmx it is flashed."""
    transport = get_or_404(NotificationTransport, transport_id)
    outcome = send_test(transport, db.session.get_one(User, current_user.id))
    db.session.commit()
    if not htmx:
        flash(f"Test of {transport.name}: {outcome.summary} {outcome.error}".strip(),
              "success" if outcome.ok else "danger")
        return redirect(url_for("transports.edit", transport_id=transport.id))
    response = make_response(render_template("transports/_test_outcome.html", outcome=outcome))
    if transport.mode == TransportMode.LOCAL:
        response.headers["HX-Trigger"] = BELL_REFRESH
    return response


@bp.route("/<int:transport_id>/delete", methods=["GET", "POST"])
def delete(transport_id: int):
    transport = get_or_404(NotificationTransport, transport_id)
    edit_url = url_for("transports.edit", transport_id=transport.id)
    return confirm_delete(
        kind="transport", name=transport.name, remove=lambda: db.session.delete(transport),
        crumbs=[("Events", None), ("Transports", url_for("transports.index")),
                (transport.name, edit_url), ("Delete", None)],
        done_url=url_for("transports.index"), cancel_url=edit_url,
        consequences=[f"{rules_using(transport)} notification rule(s) stop sending through it; "
                      "the rules themselves stay.",
                      "Past deliveries stay in the ledger under its name."])


def _form(transport: NotificationTransport | None) -> TransportForm:
    mappings = db.session.scalars(sa.select(WebhookMapping).order_by(WebhookMapping.name)).all()
    return TransportForm(transport=transport, mappings=list(mappings))


def _form_page(form: TransportForm, transport: NotificationTransport | None):
    """The form again; 400 when a submission was refused (its errors are on the page)."""
    page = render_template("transports/form.html", form=form, transport=transport)
    return page, 400 if form.is_submitted() else 200
