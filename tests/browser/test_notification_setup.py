"""The whole set-up of one alert from the UI alone, as issue 9 asks: a webhook transport
(tested against a real receiver), an event matcher for login_failed, and a rule using both
whose preview lists past failed logins; then a new failed login reaches the receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.pickers import pick
from tests.browser.test_rules import ATTACKED, seed_failed_logins
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_group
from tests.integration.receivers import HttpReceiver, Reply, http_receiver
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import User
from webapp.notifications.delivery import send_batch
from webapp.notifications.matching import match_pending


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def _create_transport(page: Page, receiver: HttpReceiver) -> None:
    page.goto("/events/transports/new")
    page.get_by_label("Name").fill("ops-hook")
    page.get_by_label("Mode").select_option("webhook")
    page.get_by_label("Webhook URL").fill(receiver.url)
    page.get_by_role("button", name="Create transport").click()
    expect(page.get_by_text("Created transport ops-hook")).to_be_visible()
    page.wait_for_load_state()  # the list shows before htmx listens to its Test buttons
    page.get_by_role("button", name="Test ops-hook").click()
    expect(page.locator("#transport-table [role=status]")).to_contain_text("HTTP 202")


def _create_policy(page: Page) -> None:
    page.goto("/customization/policies/new/event_matcher")
    page.get_by_label("Name", exact=True).fill("Failed logins")
    page.get_by_label("Action").select_option("login_failed")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".alert-success")).to_contain_text("Created policy Failed logins")


def _create_rule_after_its_preview(page: Page) -> None:
    page.goto("/events/rules/new")
    page.get_by_label("Name", exact=True).fill("Brute force watch")
    page.get_by_label("Severity").select_option("alert")
    page.get_by_role("button", name="Existing policy").click()
    page.locator("#binding-0").get_by_label("Policy").select_option(label="Failed logins")
    pick(page, "Notify group", "op", "ops")
    page.get_by_label("Transports").select_option(label="ops-hook")
    page.get_by_role("button", name="Run preview").click()
    expect(page.locator("#preview-count")).to_have_text(str(len(ATTACKED)))
    for name in ATTACKED:
        expect(page.locator("#preview-matches")).to_contain_text(name)
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".alert-success")).to_contain_text("Created rule Brute force watch")


def test_an_alert_set_up_from_the_ui_alone_reaches_the_receiver(app, page: Page, admin,
                                                                 receiver: HttpReceiver):
    seed_failed_logins(app)
    with app.app_context():
        make_group("ops", db.session.get(User, admin))
        match_pending()  # history: matched before the rule exists, as the scheduler would
    receiver.reply_with(Reply(202, b"test received"))
    sign_in(page, "admin", ADMIN_PASSWORD)

    _create_transport(page, receiver)
    _create_policy(page)
    _create_rule_after_its_preview(page)

    with app.app_context():
        record("login_failed", {"message": "Bad password for mallory"}, app="tests")
        db.session.commit()
        match_pending()
        send_batch(app, "browser-test")
    test_call, alert = receiver.wait_for(2)
    assert test_call.json()["body"] == "Test notification from transport ops-hook"
    assert (alert.json()["body"], alert.json()["severity"], alert.json()["user_username"]) == (
        "Bad password for mallory", "alert", "admin")
