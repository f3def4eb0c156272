"""Rules and policies in a real browser: an event matcher and a rule made from the UI alone,
the rule's preview listing past failed logins before it is saved, the expression tester, and
axe over the pages as they look in use."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import blocking_violations, readable, run_axe
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_user
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import NotificationRule

ATTACKED = ("dana", "erin", "frank")


def seed_failed_logins(app) -> None:
    with app.app_context():
        for name in ATTACKED:
            user = make_user(name)
            record("login_failed", {"username": name}, user=user, client_ip="203.0.113.9",
                   app="tests")
        record("login", {}, user=user, app="tests")
        db.session.commit()


def test_a_matcher_and_a_rule_from_the_ui_preview_past_failed_logins(app, page: Page, admin):
    seed_failed_logins(app)
    sign_in(page, "admin", ADMIN_PASSWORD)

    page.goto("/customization/policies/new/event_matcher")
    page.get_by_label("Name", exact=True).fill("Failed logins")
    page.get_by_label("Action").select_option("login_failed")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".alert-success")).to_contain_text("Created policy Failed logins")

    page.goto("/events/rules/new")
    page.get_by_label("Name", exact=True).fill("Brute force watch")
    page.get_by_label("Severity").select_option("alert")
    page.get_by_role("button", name="Existing policy").click()
    binding = page.locator("#binding-0")
    binding.get_by_label("Policy").select_option(label="Failed logins")
    page.get_by_role("button", name="Run preview").click()

    expect(page.locator("#preview-count")).to_have_text("3")
    rows = page.locator("#preview-matches tbody tr")
    expect(rows).to_have_count(3)
    for name in ATTACKED:
        expect(page.locator("#preview-matches")).to_contain_text(name)
    assert page.url.endswith("/events/rules/new")  # previewed, not saved
    screenshot(page, "rule-preview")
    assert not blocking_violations_here(page), readable({page.url: blocking_violations_here(page)})

    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".alert-success")).to_contain_text("Created rule Brute force watch")
    with app.app_context():
        rule = db.session.scalar(sa.select(NotificationRule))
        assert [b.policy.name for b in rule.bindings] == ["Failed logins"]
    page.goto("/events/rules/")
    expect(page.locator("#rule-table")).to_contain_text("Brute force watch")


def test_bindings_are_added_and_removed_without_losing_what_was_typed(app, page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/rules/new")
    page.get_by_label("Name", exact=True).fill("Typed")
    page.get_by_role("button", name="New event matcher").click()
    page.locator("#binding-0").get_by_label("Client IP or network").fill("10.0.0.0/8")
    page.get_by_role("button", name="Group").click()
    expect(page.locator("#binding-1")).to_be_visible()
    page.get_by_role("button", name="Remove binding 2").click()

    expect(page.locator("#binding-1")).to_have_count(0)
    expect(page.locator("#binding-0").get_by_label("Client IP or network")).to_have_value(
        "10.0.0.0/8")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Typed")


def test_the_expression_tester_shows_a_result_and_an_error(app, page: Page, admin):
    seed_failed_logins(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/customization/policies/new/expression")
    failed_login = page.locator("#event option", has_text="login_failed").first
    page.get_by_label("Test against", exact=True).select_option(
        failed_login.get_attribute("value"))

    page.get_by_label("Expression", exact=True).fill('event.action == "login_failed"')
    page.get_by_role("button", name="Test expression").click()
    expect(page.locator("#test-verdict")).to_have_text("true")
    expect(page.locator("#test-outcome")).to_contain_text(re.compile(r"in \d+\.\d ms"))

    page.get_by_label("Expression", exact=True).fill("().__class__")
    page.get_by_role("button", name="Test expression").click()
    expect(page.locator("#test-error")).to_contain_text("'__class__' is not allowed")
    screenshot(page, "expression-tester")
    assert not blocking_violations_here(page)
    assert not blocking_violations(page, "/customization/policies/")


def blocking_violations_here(page: Page) -> list:
    """axe over the page as it is now (after htmx swaps), without reloading it."""
    return [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
