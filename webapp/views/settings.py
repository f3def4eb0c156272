"""System > Settings: retention, re-applying it, export limits, notification housekeeping,
and a read-only view of the configuration. Each card posts its own form; the page re-renders
the others unbound."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_htmx.responses import HTMXResponseStopPolling
from flask_wtf import FlaskForm

from webapp.core.extensions import db
from webapp.core.lookups import get_or_404
from webapp.events.maintenance import reapply_retention
from webapp.events.retention import parse_retention
from webapp.forms.settings import ExportSettingsForm, NotificationSettingsForm, RetentionForm
from webapp.models import BackgroundTask
from webapp.system.background import abandon_if_stale, running_task, start_task
from webapp.system.system_settings import configuration_summary, get_settings

bp = Blueprint("settings", __name__, url_prefix="/settings")
REAPPLY_KIND = "reapply_retention"


@dataclass(frozen=True)
class Card:
    """One card of the page: its form, the settings it saves (same names on the form and the
    settings row) and what it says once they are saved."""

    form: type[FlaskForm]
    fields: tuple[str, ...]
    saved: str


#: Each card, by the name the template knows its form by.
CARDS = {
    "form": Card(RetentionForm, ("event_retention",),
                 "Settings saved. New events use the new retention."),
    "export_form": Card(ExportSettingsForm, ("export_stream_limit", "export_retention"),
                        "Export settings saved."),
    "notification_form": Card(NotificationSettingsForm, ("notification_retention",),
                              "Notification settings saved."),
}


@bp.route("/", methods=["GET", "POST"])
def index():
    return _save("form")


@bp.post("/exports")
def save_exports():
    return _save("export_form")


@bp.post("/notifications")
def save_notifications():
    return _save("notification_form")


def _save(name: str):
    """Save the card's settings (text stripped) if its form was posted and is valid;
    otherwise the page, with that form and its errors."""
    card, settings = CARDS[name], get_settings()
    form = card.form(obj=settings)
    if not form.validate_on_submit():
        return _render(settings, **{name: form})
    for field in card.fields:
        value = form[field].data
        setattr(settings, field, value.strip() if isinstance(value, str) else value)
    db.session.commit()
    flash(card.saved, "success")
    return redirect(url_for("settings.index"))


def _render(settings, **submitted):
    """The page with the submitted card's form (and its errors) and the others unbound."""
    forms = {name: submitted.get(name) or card.form(formdata=None, obj=settings)
             for name, card in CARDS.items()}
    db.session.commit()  # the settings row, if get_settings() just created it
    return render_template("settings/index.html", summary=configuration_summary(),
                           task=running_task(REAPPLY_KIND), **forms)


@bp.post("/retention/reapply")
def reapply():
    task = running_task(REAPPLY_KIND)
    if task is None:
        retention = parse_retention(get_settings().event_retention)
        task = start_task(REAPPLY_KIND, lambda progress: (
            f"Updated the expiry of {reapply_retention(retention, progress)} events."))
    return render_template("settings/_task.html", task=task)


@bp.get("/tasks/<int:task_id>")
def task_status(task_id: int):
    task = get_or_404(BackgroundTask, task_id)
    abandon_if_stale(task)
    page = render_template("settings/_task.html", task=task)
    if task.status == "running":
        return page
    return HTMXResponseStopPolling(page)
