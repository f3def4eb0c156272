"""System > Settings: retention, re-applying it, export limits, notification housekeeping,
and a read-only view of the configuration. Each card posts its own form; the page re-renders
the others unbound."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_htmx.responses import HTMXResponseStopPolling

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
#: Each card's form, by the name the template knows it by.
CARDS = {"form": RetentionForm, "export_form": ExportSettingsForm,
         "notification_form": NotificationSettingsForm}


@bp.route("/", methods=["GET", "POST"])
def index():
    settings = get_settings()
    form = RetentionForm(obj=settings)
    if form.validate_on_submit():
        settings.event_retention = form.event_retention.data.strip()
        db.session.commit()
        flash("Settings saved. New events use the new retention.", "success")
        return redirect(url_for("settings.index"))
    return _render(settings, form=form)


@bp.post("/exports")
def save_exports():
    settings = get_settings()
    export_form = ExportSettingsForm(obj=settings)
    if export_form.validate_on_submit():
        settings.export_stream_limit = export_form.export_stream_limit.data
        settings.export_retention = export_form.export_retention.data.strip()
        db.session.commit()
        flash("Export settings saved.", "success")
        return redirect(url_for("settings.index"))
    return _render(settings, export_form=export_form)


@bp.post("/notifications")
def save_notifications():
    settings = get_settings()
    notification_form = NotificationSettingsForm(obj=settings)
    if notification_form.validate_on_submit():
        settings.notification_retention = notification_form.notification_retention.data.strip()
        db.session.commit()
        flash("Notification settings saved.", "success")
        return redirect(url_for("settings.index"))
    return _render(settings, notification_form=notification_form)


def _render(settings, **submitted):
    """The page with the submitted card's form (and its errors) and the others unbound."""
    forms = {name: submitted.get(name) or form_class(formdata=None, obj=settings)
             for name, form_class in CARDS.items()}
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
