"""Customization > Webhook Mappings: list, create, edit with a live render, delete."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from webapp.core.extensions import db
from webapp.core.lookups import get_or_404
from webapp.forms.mappings import MappingForm
from webapp.models import WebhookMapping
from webapp.notifications.transport_admin import live_render, mapping_usage, purposes_in_use
from webapp.views.notifications.confirm import confirm_delete

bp = Blueprint("mappings", __name__, url_prefix="/customization/mappings")
STARTER = ('{\n  "text": {{ notification.body | tojson }},\n'
           '  "action": {{ event.action | tojson }},\n'
           '  "user": {{ event.user.username | tojson }}\n}')


@bp.get("/")
def index():
    mappings = db.session.scalars(sa.select(WebhookMapping).order_by(WebhookMapping.name)).all()
    return render_template("mappings/index.html", mappings=mappings, usage=mapping_usage())


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = MappingForm(data=None if request.method == "POST" else {"expression": STARTER})
    if form.validate_on_submit():
        mapping = WebhookMapping(name=form.name.data, expression=form.expression.data)
        db.session.add(mapping)
        db.session.commit()
        flash(f"Created mapping {mapping.name}.", "success")
        return redirect(url_for("mappings.edit", mapping_id=mapping.id))
    return _form_page(form, None)


@bp.route("/<int:mapping_id>", methods=["GET", "POST"])
def edit(mapping_id: int):
    mapping = get_or_404(WebhookMapping, mapping_id)
    form = MappingForm(mapping=mapping, in_use=purposes_in_use(mapping))
    if form.validate_on_submit():
        mapping.name, mapping.expression = form.name.data, form.expression.data
        db.session.commit()
        flash(f"Saved the changes to {mapping.name}.", "success")
        return redirect(url_for("mappings.edit", mapping_id=mapping.id))
    return _form_page(form, mapping)


@bp.post("/preview")
def preview():
    """The live render: htmx posts the editor's text and purpose as they change."""
    return render_template("mappings/_preview.html", render=live_render(
        request.form.get("expression", ""), request.form.get("purpose", "body")))


@bp.route("/<int:mapping_id>/delete", methods=["GET", "POST"])
def delete(mapping_id: int):
    mapping = get_or_404(WebhookMapping, mapping_id)
    edit_url = url_for("mappings.edit", mapping_id=mapping.id)
    used = mapping_usage().get(mapping.id, 0)
    return confirm_delete(
        kind="mapping", name=mapping.name, remove=lambda: db.session.delete(mapping),
        crumbs=[("Customization", None), ("Webhook Mappings", url_for("mappings.index")),
                (mapping.name, edit_url), ("Delete", None)],
        done_url=url_for("mappings.index"), cancel_url=edit_url,
        consequences=[f"{used} transport(s) use it; they go back to the default body and no "
                      "extra headers."])


def _form_page(form: MappingForm, mapping: WebhookMapping | None):
    """The editor with the live render of what it holds; 400 when a save was refused."""
    render = live_render(form.expression.data or "", form.purpose.data or "body")
    page = render_template("mappings/form.html", form=form, mapping=mapping, render=render)
    return page, 400 if form.is_submitted() else 200
