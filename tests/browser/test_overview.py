"""The Overview in the real browser: counters, charts loaded after the page, and recent events
whose details open in place when their name is clicked."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.test_logs import BERLIN, seed_events
from tests.conftest import ADMIN_PASSWORD
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record


def test_the_overview_shows_counters_charts_and_expandable_recent_events(app, page: Page, admin):
    seed_events(app)
    with app.app_context():
        for hours in range(2, 60, 3):  # a week of sign-ins for the hourly chart
            record("login_failed" if hours % 2 else "login", {"geo": BERLIN},
                   app="webapp.views.auth",
                   client_ip="198.51.100.7", created=utcnow() - timedelta(hours=hours))
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/overview")
    expect(page.locator("#overview-counters")).to_contain_text("Failed sign-ins")
    for name in ("sign-ins", "categories"):
        expect(page.locator(f"#overview-chart-{name} svg rect").first).to_be_visible()
    expect(page.locator("#overview-chart-categories")).to_contain_text("authentication")
    failed_map = page.frame_locator("iframe[title^='Map of where failed sign-ins']")
    expect(failed_map.locator(".leaflet-container")).to_be_visible()

    recent = page.locator("#latest-events")
    recent.locator(".herald-action", has_text="model_updated").click()
    expect(recent).to_contain_text("erin@new.example")
    screenshot(page, "overview")
