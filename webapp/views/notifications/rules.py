"""Events > Notification Rules: list, create, edit, delete, inline bindings, preview.

The rule page is one form: settings, bindings and the preview. Its buttons say what they want
in `intent`: "save" (the default), "preview", "add:<kind>" or "remove:<row>". Adding and
removing rows re-render the form from what was submitted, so nothing typed is lost; htmx
swaps just the bindings (or the preview), and without JavaScript the whole page comes back.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from webapp.core.db_types import utcnow
from webapp.core.extensions import db, htmx
from webapp.core.lookups import get_or_404
from webapp.forms.rules import BINDING_KINDS, RuleChoices, RuleForm
from webapp.models import NotificationRule
from webapp.notifications.rule_admin import (
    PREVIEW_EVENTS,
    apply_spec,
    create_rule,
    preview,
    rule_rows,
)
from webapp.views.notifications.confirm import confirm_delete

bp = Blueprint("rules", __name__, url_prefix="/events/rules")


@bp.get("/")
def index():
    return render_template("rules/index.html", rows=rule_rows(utcnow()))


@bp.route("/new", methods=["GET", "POST"])
def create():
    return _rule_page(None)


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
def edit(rule_id: int):
    return _rule_page(get_or_404(NotificationRule, rule_id))


@bp.route("/<int:rule_id>/delete", methods=["GET", "POST"])
def delete(rule_id: int):
    rule = get_or_404(NotificationRule, rule_id)
    edit_url = url_for("rules.edit", rule_id=rule.id)
    return confirm_delete(
        kind="rule", name=rule.name, remove=lambda: db.session.delete(rule),
        crumbs=[("Events", None), ("Notification Rules", url_for("rules.index")),
                (rule.name, edit_url), ("Delete", None)],
        done_url=url_for("rules.index"), cancel_url=edit_url,
        consequences=["Its bindings go with it; the policies stay.",
                      "Notifications it already sent stay in the bell and the ledger."])


def _rule_page(rule: NotificationRule | None):
    form = RuleForm(rule=rule, choices=RuleChoices())
    intent = request.form.get("intent", "save") if request.method == "POST" else "show"
    if intent.startswith(("add:", "remove:")):
        _change_rows(form, intent)
        return _render(form, rule, fragment="rules/_bindings.html")
    if intent == "preview":
        return _render(form, rule, fragment="rules/_preview.html", **_preview(form))
    if intent == "save" and form.validate_on_submit():
        return _save(form, rule)
    return _render(form, rule)


def _change_rows(form: RuleForm, intent: str) -> None:
    verb, _, argument = intent.partition(":")
    if verb == "add":
        form.add_binding(argument)
    elif argument.isdigit():
        form.remove_binding(int(argument))


def _preview(form: RuleForm) -> dict:
    """The preview, or why there is none: the invalid fields, except the name (a rule can be
    previewed before it has one)."""
    form.validate()
    problems = _problems(form)
    return {"problems": problems, "result": None if problems else preview(form.spec())}


def _problems(form: RuleForm) -> list[str]:
    lines = []
    for field in form:
        if field.name == "bindings":
            lines += [f"Binding {index} · {inner.label.text}: {message}"
                      for index, entry in enumerate(field, start=1)
                      for inner in entry.form for message in inner.errors]
        elif field.name != "name":
            lines += [f"{field.label.text}: {message}" for message in field.errors]
    return lines


def _save(form: RuleForm, rule: NotificationRule | None):
    if rule is None:
        rule = create_rule(form.spec())
        verb = "Created"
    else:
        apply_spec(rule, form.spec())
        verb = "Saved"
    db.session.commit()
    flash(f"{verb} rule {rule.name}.", "success")
    return redirect(url_for("rules.edit", rule_id=rule.id))


def _render(form: RuleForm, rule: NotificationRule | None, fragment: str | None = None,
            **context):
    context.update(form=form, rule=rule, kinds=BINDING_KINDS, preview_events=PREVIEW_EVENTS,
                   action_url=url_for("rules.edit", rule_id=rule.id) if rule
                   else url_for("rules.create"))
    template = fragment if fragment and htmx else "rules/edit.html"
    return render_template(template, **context)
