"""Transports and webhook mappings in a real browser: a webhook transport made from the UI
alone (the mode switch shows and hides fields), its Test button answered by a real receiver,
the transports list as people see it, and a mapping's live render as it is typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import blocking_violations, readable
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_transport
from tests.integration.receivers import HttpReceiver, Reply, http_receiver
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Delivery, WebhookMapping


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def test_create_a_webhook_transport_and_test_it(page: Page, admin, receiver: HttpReceiver):
    receiver.reply_with(Reply(202, b'{"queued": "abc123"}'))
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/transports/")
    page.get_by_role("link", name="New transport").first.click()
    expect(page).to_have_url(re.compile(r"/transports/new"))
    page.wait_for_load_state()  # the URL changes before the form's scripts listen to Mode

    page.get_by_label("Name").fill("ops-hook")
    url = page.get_by_label("Webhook URL")
    page.get_by_label("Mode").select_option("local")
    expect(url).to_be_hidden()
    page.get_by_label("Mode").select_option("email")
    expect(page.get_by_label("Subject prefix")).to_be_visible()
    expect(url).to_be_hidden()
    page.get_by_label("Mode").select_option("webhook")
    expect(page.get_by_label("Subject prefix")).to_be_hidden()
    url.fill(receiver.url)
    page.get_by_role("button", name="Create transport").click()

    expect(page.get_by_text("Created transport ops-hook")).to_be_visible()
    page.wait_for_load_state()  # the list shows before htmx listens to its Test buttons
    page.get_by_role("button", name="Test ops-hook").click()
    outcome = page.locator("#transport-table [role=status]")
    expect(outcome).to_contain_text("HTTP 202")
    expect(outcome).to_contain_text(re.compile(r"\d+ ms"))
    expect(outcome.locator("pre")).to_have_text('{"queued": "abc123"}')
    assert receiver.wait_for(1)[0].json()["body"] == "Test notification from transport ops-hook"


def test_the_transports_list(app, page: Page, admin, receiver: HttpReceiver):
    now = utcnow()
    with app.app_context():
        slack = make_transport("ops-slack", mode="webhook_slack", send_once=True,
                               webhook_url="https://hooks.slack.com/services/T0/B0/secret")
        make_transport("siem-webhook", webhook_url=receiver.url)
        make_transport("default-local-transport", mode="local")
        make_transport("default-email-transport", mode="email")
        for age, status in enumerate(["sent"] * 11 + ["failed"]):
            db.session.add(Delivery(transport_id=slack.id, transport_name=slack.name,
                                    severity="alert", body="b", status=status,
                                    updated=now - timedelta(minutes=5 + 30 * age)))
        db.session.commit()
    receiver.reply_with(Reply(500, b"upstream unavailable"))
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/transports/")

    page.get_by_role("button", name="Test siem-webhook").click()

    expect(page.locator("#transport-table .alert-danger")).to_contain_text("answered HTTP 500")
    expect(page.locator("#transport-table")).to_contain_text("92%")
    expect(page.locator("#transport-table")).not_to_contain_text("secret")
    screenshot(page, "transports-list")


def test_a_mapping_renders_live_as_it_is_typed(page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)  # the newest event: this login
    page.goto("/customization/mappings/new")
    editor = page.get_by_label("Expression")
    preview = page.locator("#mapping-preview")

    editor.fill('{"who": {{ event.user.username | tojson }}}')
    expect(preview.locator("pre")).to_contain_text('"who": "admin"')
    editor.press_sequentially(" {{ oops", delay=20)
    expect(preview.get_by_role("alert")).to_contain_text("does not render")
    page.get_by_label("Check as").select_option("headers")
    editor.fill("[1, 2]")
    expect(preview.get_by_role("alert")).to_contain_text("must render a JSON object")
    screenshot(page, "mapping-live-render")


def test_the_forms_pass_axe(app, page: Page, admin):
    """The sidebar walk covers the lists; these are the pages one click beyond them."""
    with app.app_context():
        hook = make_transport("hook", webhook_url="https://h.example.com/", signing_secret="s")
        mapping = WebhookMapping(name="m", expression='{"a": 1}')
        db.session.add(mapping)
        db.session.commit()
        urls = ["/events/transports/new", f"/events/transports/{hook.id}",
                f"/events/transports/{hook.id}/delete", "/customization/mappings/new",
                f"/customization/mappings/{mapping.id}"]
    sign_in(page, "admin", ADMIN_PASSWORD)

    report = {url: blocking_violations(page, url) for url in urls}

    assert not any(report.values()), readable(report)
