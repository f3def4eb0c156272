"""System > Settings: retention with validation, re-applying it, the configuration panel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_event
from tests.helpers import events, post_form
from webapp.core.extensions import db
from webapp.models import BackgroundTask, Event, Settings


def test_the_page_explains_retention_and_shows_the_configuration(admin_client):
    page = admin_client.get("/settings/").text
    assert 'value="days=365"' in page
    assert "applies to new events" in page.replace("so a change applies", "applies")
    assert "sqlite" in page or "postgresql" in page
    assert "retention_cleanup" in page
    assert "No scheduler holds the lease" in page


def test_saving_a_valid_retention_applies_to_new_events(app, admin_client):
    admin_client.get("/settings/")  # the settings row exists from the first visit on
    response = post_form(admin_client, "/settings/", {"event_retention": "hours=6"})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Settings, 1).event_retention == "hours=6"
        event = make_event("login")
        assert event.expires - event.created == timedelta(hours=6)
        (change,) = [e for e in events("model_updated")
                     if e.context["model"]["model_name"] == "settings"]
        assert change.context["diff"]["event_retention"]["new_value"] == "hours=6"


@pytest.mark.parametrize(("value", "message"), [
    ("", "This field is required."),
    ("forever", "is not of the form unit=number"),
    ("dayz=3", "Unknown unit"),
    ("days=0", "longer than zero"),
    ("days=" + "9" * 400, "Field cannot be longer than 200 characters."),
])
def test_a_bad_retention_is_refused_next_to_the_field_and_nothing_is_lost(
        app, admin_client, value, message):
    response = post_form(admin_client, "/settings/", {"event_retention": value})

    assert response.status_code == 200
    assert message in response.text
    assert 'id="event_retention-errors"' in response.text
    with app.app_context():
        assert db.session.get(Settings, 1).event_retention == "days=365"


def test_reapplying_retention_updates_existing_events_and_reports_progress(app, admin_client):
    with app.app_context():
        old = make_event("login", expires_in=timedelta(days=365))
        db.session.get(Settings, 1) or db.session.add(Settings(id=1))
        db.session.get(Settings, 1).event_retention = "days=7"
        db.session.commit()
        old_id = old.event_uuid

    response = post_form(admin_client, "/settings/retention/reapply",
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="reapply-task"' in response.text

    with app.app_context():
        task = _wait_for_task()
        assert task.status == "done", task.message
        event = db.session.get(Event, old_id)
        assert event.expires - event.created == timedelta(days=7)
        task_id = task.id
    finished = admin_client.get(f"/settings/tasks/{task_id}", headers={"HX-Request": "true"})
    assert finished.status_code == 286  # htmx: stop polling
    assert "Updated the expiry of" in finished.text


def _wait_for_task() -> BackgroundTask:
    import time

    for _ in range(100):
        db.session.expire_all()
        task = db.session.scalars(db.select(BackgroundTask)).one()
        if task.status != "running":
            return task
        time.sleep(0.05)
    raise AssertionError("the task did not finish")


def test_an_unknown_task_is_a_404(admin_client):
    assert admin_client.get("/settings/tasks/999").status_code == 404


def test_the_notification_retention_is_saved_from_its_own_card(app, admin_client):
    page = admin_client.get("/settings/").text
    assert 'id="notifications-heading"' in page and 'value="days=30"' in page
    response = post_form(admin_client, "/settings/notifications",
                         {"notification_retention": "days=7"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Settings, 1).notification_retention == "days=7"


def test_a_bad_notification_retention_is_refused_and_the_other_cards_stay_intact(
        app, admin_client):
    admin_client.get("/settings/")
    response = post_form(admin_client, "/settings/notifications",
                         {"notification_retention": "forever"})
    assert response.status_code == 200
    assert 'id="notification_retention-errors"' in response.text
    assert 'value="days=365"' in response.text  # the retention card, unbound
    with app.app_context():
        assert db.session.get(Settings, 1).notification_retention == "days=30"
