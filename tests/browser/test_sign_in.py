"""Signing in and out in the real browser."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD


def test_an_admin_signs_in_sees_the_overview_and_signs_out(page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)

    expect(page).to_have_url(re.compile(r"/overview$"))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator("#latest-events")).to_contain_text("login")
    nav = page.get_by_role("navigation", name="Main")
    for link in ("Overview", "Logs", "Settings"):
        expect(nav.get_by_role("link", name=link)).to_be_visible()

    page.get_by_role("button", name="admin").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_text("You have been signed out.")).to_be_visible()
    page.goto("/overview")
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))


def test_a_wrong_password_shows_an_error_next_to_the_form(page: Page, admin):
    sign_in(page, "admin", "not-the-password")

    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    expect(page.get_by_label("Username or email")).to_have_value("admin")
    expect(page.get_by_label("Password")).to_have_value("")
