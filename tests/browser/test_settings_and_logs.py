"""Settings and Events > Logs in the real browser: htmx with CSRF, validation, progress."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD


def test_retention_is_validated_saved_and_reapplied_with_progress(page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/settings/")
    field = page.get_by_label("Event retention")

    field.fill("dayz=3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#event_retention-errors")).to_contain_text("Unknown unit 'dayz'")
    expect(field).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Event retention").fill("days=30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label("Event retention")).to_have_value("days=30")

    page.wait_for_load_state()  # htmx must have wired the button before it is clicked
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Re-apply to existing events").click()
    expect(page.locator("#reapply-task")).to_contain_text(
        re.compile(r"Updated the expiry of \d+ events"))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")


def test_logs_filter_by_action_without_reloading_and_open_an_event(page: Page, admin):
    sign_in(page, "admin", "wrong-password")
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/")
    rows = page.locator("#event-rows tr.herald-event-row")
    expect(rows).to_have_count(3)  # login, login_failed, and the admin's creation

    page.get_by_role("button", name="Any action").click()
    page.get_by_label("login_failed", exact=True).check()

    expect(page).to_have_url(re.compile(r"action=login_failed"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("tried “admin”")
    rows.first.get_by_role("link", name=re.compile("Open the login_failed event")).click()
    expect(page.get_by_role("heading", name="login_failed")).to_be_visible()
    expect(page.locator("#event-json")).to_contain_text('"username": "admin"')
