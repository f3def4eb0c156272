"""The API browser in the real browser: Swagger UI from static/vendor/ under the app's CSP
(the page fixture fails the test on any CSP violation or request to another host), and
"Try it out" working with the session and its CSRF token."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD


def test_the_api_browser_lists_and_calls_the_api(page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/api/v3/schema/browser/")
    expect(page.get_by_text("Herald API").first).to_be_visible()
    operation = page.locator("#operations-events-events_events_create")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill('{"action": "from_the_browser", '
                                                        '"app": "swagger"}')
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first) \
        .to_have_text("201")
