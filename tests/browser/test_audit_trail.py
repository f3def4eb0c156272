"""The audit trail in the real browser: changes made on the Directory pages become events
with exact diffs, visible on the event's page, and never carry a password or a hash."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.pickers import pick
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_user
from tests.helpers import events
from webapp.core.extensions import db
from webapp.directory.accounts import ensure_admins_group
from webapp.models import User


def model_events(action: str, model_name: str):
    return [e for e in events(action) if e.context["model"]["model_name"] == model_name]


def test_editing_an_email_records_one_diff_and_adding_to_a_group_records_the_member(
        app, page: Page, admin):
    with app.app_context():
        user_pk = make_user("dana", email="dana@example.com").id
        ensure_admins_group()
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)

    page.goto(f"/directory/users/{user_pk}")
    page.get_by_label("Email").fill("scully@example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the changes to dana.")

    page.goto("/directory/groups")
    page.get_by_role("link", name="admins").click()
    pick(page, "User", "da", "dana")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#member-list")).to_contain_text("dana")

    with app.app_context():
        (updated,) = model_events("model_updated", "user")
        assert updated.context["diff"] == {"email": {
            "previous_value": "dana@example.com", "new_value": "scully@example.com"}}
        assert updated.user["username"] == "admin"
        (membership,) = model_events("model_updated", "group")
        assert membership.context["diff"] == {"users": {"add": [user_pk]}}
        event_id = updated.pk

    page.goto(f"/events/{event_id}")
    diff = page.locator("#event-diff")
    expect(diff.get_by_role("row")).to_have_count(2)  # the header and the one changed field
    expect(diff).to_contain_text("dana@example.com")
    expect(diff).to_contain_text("scully@example.com")


def test_creating_a_user_and_setting_passwords_never_puts_a_secret_in_an_event(
        app, page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/directory/users/new")
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Email").fill("eve@example.com")
    page.get_by_label("Password").fill("first-Secret-991")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("alert")).to_contain_text("Created user eve.")

    page.get_by_label("New password").fill("second-Secret-992")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("password", re.I))

    with app.app_context():
        hashes = [u.password_hash for u in db.session.scalars(db.select(User))]
        everything = json.dumps([[e.context, e.user] for e in events()])
        assert model_events("model_created", "user") and events("password_set")
    for secret in ("first-Secret-991", "second-Secret-992", *hashes, "scrypt:"):
        assert secret not in everything
