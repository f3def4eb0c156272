"""The Directory in the real browser: a user, their group and a token, made through the UI."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.pickers import pick
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_user
from webapp.directory.accounts import ensure_admins_group


def test_an_admin_creates_a_user_edits_them_adds_them_to_a_group_and_gives_them_a_token(
        app, page: Page, admin):
    with app.app_context():
        ensure_admins_group(make_user("zoe"))
        make_user("yann")
    sign_in(page, "admin", ADMIN_PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    # Typed before the page's deferred htmx has started, the search would go unheard.
    page.wait_for_url(re.compile(r"/directory/users$"))
    page.get_by_label("Search users").fill("zo")
    expect(page).to_have_url(re.compile(r"/directory/users\?q=zo$"))
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    page.get_by_label("Search users").fill("ann")  # three letters: the name index answers
    expect(page.locator("#user-table tbody tr")).to_have_count(1)
    expect(page.locator("#user-table tbody")).to_contain_text("yann")
    screenshot(page, "users-search")
    page.get_by_role("link", name="New user").click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Name", exact=True).fill("Dana Scully")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_role("button", name="Create user").click()

    expect(page.get_by_role("alert")).to_contain_text("Created user dana.")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#email-errors")).to_have_text("Enter a valid email address.")
    page.get_by_label("Email").fill("scully@example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the changes to dana.")
    expect(page.get_by_label("Email")).to_have_value("scully@example.com")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    page.get_by_role("link", name="admins").click()
    pick(page, "User", "dan", "dana")
    page.get_by_role("button", name="Add member").click()
    members = page.locator("#member-list")
    expect(page.locator("#group-members [role=status]")).to_have_text("Added dana to admins.")
    expect(members).to_contain_text("dana")
    page.get_by_role("button", name="Remove zoe").click()
    expect(page.locator("#group-members [role=status]")).to_have_text("Removed zoe from admins.")
    expect(members.get_by_role("listitem")).to_have_count(1)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tokens").click()
    page.get_by_role("link", name="New token").click()
    pick(page, "User", "scully@", "dana")
    page.get_by_label("Identifier").fill("dana-ci")
    page.get_by_label("Description").fill("Deploys from CI")
    page.get_by_role("button", name="Create token").click()

    key = page.get_by_label("Key").input_value()
    assert len(key) >= 40
    page.wait_for_load_state()  # the Key shows before the page's script listens to Copy
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.bring_to_front()  # the clipboard refuses a page without focus ("Press Ctrl+C" instead)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    page.get_by_role("link", name="Done").click()
    expect(page.locator("#token-table")).to_contain_text(f"{key[:8]}…")
    expect(page.locator("body")).not_to_contain_text(key)
