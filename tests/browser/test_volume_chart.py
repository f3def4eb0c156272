"""The volume chart in the real browser: it follows a filter change, and a legend entry
narrows the view to its action."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.test_logs import rows, seed_events
from tests.conftest import ADMIN_PASSWORD


def test_the_chart_follows_the_filters_and_its_legend_narrows_to_one_action(app, page: Page,
                                                                          admin):
    seed_events(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/?period=24h")
    chart = page.locator("#volume-chart")
    legend = chart.locator(".herald-legend")
    expect(legend).to_contain_text("model_updated")
    expect(legend).to_contain_text("login_failed")
    screenshot(page, "logs-with-chart")

    page.get_by_text("More filters").click()
    page.get_by_label("Username").fill("alice")
    expect(legend).not_to_contain_text("model_updated")
    expect(legend).to_contain_text("login 2")

    page.get_by_label("Username").fill("")
    expect(legend).to_contain_text("model_updated")
    legend.get_by_role("link", name=re.compile("login_failed")).click()
    expect(page).to_have_url(re.compile(r"action=login_failed"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("mallory")
