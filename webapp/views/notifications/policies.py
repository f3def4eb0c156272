"""Customization > Policies: event matchers and expressions, with "test against an event"."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from webapp.core.extensions import db
from webapp.core.lookups import get_or_404
from webapp.forms.policies import (
    EventMatcherForm,
    ExpressionForm,
    ExpressionTestForm,
    MatcherChoices,
)
from webapp.models import Event, EventMatcherPolicy, Policy
from webapp.policies.admin import (
    KINDS,
    policy_rows,
    recent_events,
    rules_using,
    save_event_matcher,
    save_expression,
    try_expression,
)
from webapp.views.notifications.confirm import confirm_delete

bp = Blueprint("policies", __name__, url_prefix="/customization/policies")
SECTION = ("Customization", "Policies")


@bp.get("/")
def index():
    return render_template("policies/index.html", rows=policy_rows(), kinds=KINDS)


@bp.route("/new/<kind>", methods=["GET", "POST"])
def create(kind: str):
    if kind not in KINDS:
        abort(404)
    return _policy_page(kind, None)


@bp.route("/<int:policy_id>", methods=["GET", "POST"])
def edit(policy_id: int):
    policy = get_or_404(Policy, policy_id)
    return _policy_page(policy.kind, policy)


@bp.route("/<int:policy_id>/delete", methods=["GET", "POST"])
def delete(policy_id: int):
    policy = get_or_404(Policy, policy_id)
    edit_url = url_for("policies.edit", policy_id=policy.id)
    return confirm_delete(
        kind="policy", name=policy.name, remove=lambda: db.session.delete(policy),
        crumbs=[(SECTION[0], None), (SECTION[1], url_for("policies.index")),
                (policy.name, edit_url), ("Delete", None)],
        done_url=url_for("policies.index"), cancel_url=edit_url,
        template="policies/confirm_delete.html", rules=rules_using(policy))


@bp.post("/test")
def test():
    """The expression tester: the editor's expression against the chosen event (htmx)."""
    form = ExpressionTestForm(events=recent_events())
    event = _chosen_event(form.event.data)
    if not form.validate() or event is None:
        return render_template("policies/_test_result.html", form=form, outcome=None,
                               missing=event is None)
    return render_template("policies/_test_result.html", form=form, event=event,
                           outcome=try_expression(form.expression.data, event))


def _chosen_event(pk: str | None) -> Event | None:
    try:
        return db.session.get(Event, uuid.UUID(pk or ""))
    except ValueError:
        return None


def _policy_page(kind: str, policy: Policy | None):
    form = _form(kind, policy)
    if form.validate_on_submit():
        saved = _save(kind, policy, form)
        db.session.commit()
        flash(f"{'Saved' if policy else 'Created'} policy {saved.name}.", "success")
        return redirect(url_for("policies.edit", policy_id=saved.id))
    events = recent_events() if kind == "expression" else []
    return render_template("policies/edit.html", form=form, policy=policy, kind=kind,
                           kinds=KINDS, section=(*SECTION, url_for("policies.index")),
                           test_form=ExpressionTestForm(formdata=None, events=events))


def _form(kind: str, policy: Policy | None) -> EventMatcherForm | ExpressionForm:
    if kind == "expression":
        return ExpressionForm(policy=policy)
    form = EventMatcherForm(policy=policy)
    MatcherChoices().apply(form)
    return form


def _save(kind: str, policy: Policy | None, form) -> Policy:
    common = {"name": form.name.data, "execution_logging": form.execution_logging.data}
    if kind == "expression":
        return save_expression(policy, expression=form.expression.data, **common)
    matcher = policy if isinstance(policy, EventMatcherPolicy) else None
    return save_event_matcher(matcher, **common, **form.criteria())
