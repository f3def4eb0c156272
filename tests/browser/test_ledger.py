"""Events > Deliveries in the real browser: a receiver on 127.0.0.1 that answers 500 and then
recovers, Retry from the ledger, the filters and tabs in the URL, bulk Retry with its
confirmation, and the page's screenshot and accessibility."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import BLOCKING, readable, run_axe
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_group, make_rule, make_transport
from tests.integration.receivers import HttpReceiver, Reply, http_receiver
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Delivery, User
from webapp.notifications import delivery as queue
from webapp.notifications.matching import match_pending

URL = "/events/deliveries/"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as running:
        yield running


def send_attempt(app) -> None:
    """One pass of the scheduler's send step, with every waiting delivery due at once."""
    with app.app_context():
        db.session.execute(sa.update(Delivery).where(Delivery.status.in_(("queued", "failed")))
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        queue.send_batch(app, "browser-test")


def row(page: Page):
    return page.locator("#delivery-table tr.herald-delivery-row").first


def test_a_failing_receiver_shows_in_the_ledger_and_retry_delivers_after_it_recovers(
        app, page: Page, admin, receiver):
    app.config["NOTIFICATION_RETRY_BASE_SECONDS"] = 60
    receiver.default = Reply(500, b"upstream exploded")
    with app.app_context():
        admin_user = db.session.get(User, admin)
        hook = make_transport("SIEM webhook", webhook_url=receiver.url)
        make_rule("Failed logins", transports=(hook,), group=make_group("ops", admin_user))
        record("login_failed", {"message": "Bad password for mallory"}, app="tests")
        db.session.commit()
        match_pending()
    for _ in range(2):
        send_attempt(app)
    assert len(receiver.requests) == 2

    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto(URL)
    expect(row(page)).to_contain_text("Failed, will retry")
    expect(row(page).locator(".herald-attempts")).to_have_text("2 attempts")
    expect(row(page)).to_contain_text("HTTP 500")
    expect(row(page)).to_contain_text("500")
    expect(row(page).locator("time").nth(1)).to_have_text(re.compile(r"^in \d+ (s|min)$"))
    row(page).get_by_role("button", name=re.compile("^Details of")).click()
    expect(page.locator(".herald-details-row").first).to_contain_text("upstream exploded")

    receiver.default = Reply(200, b"accepted")
    row(page).get_by_role("button", name=re.compile("^Retry")).click()
    expect(page.locator("#delivery-notice")).to_contain_text("Queued 1 delivery again")
    expect(row(page)).to_contain_text("Queued")
    send_attempt(app)
    # The page refreshes itself while a delivery is in flight: no reload here.
    expect(row(page)).to_contain_text("Sent", timeout=15_000)
    expect(row(page)).to_contain_text("HTTP 200")
    assert len(receiver.requests) == 3

    row(page).locator("a[href^='/events/']").first.click()
    page.get_by_role("link", name="Deliveries (1)").click()
    expect(page).to_have_url(re.compile(r"/events/deliveries/\?event=[0-9a-f-]{36}$"))
    expect(page.locator("#delivery-table tr.herald-delivery-row")).to_have_count(1)


def seed_ledger(app) -> None:
    """Deliveries in every state, through three transports, as a busy installation has."""
    now = utcnow()
    with app.app_context():
        ops = make_group("ops", *db.session.scalars(sa.select(User)).all())
        siem = make_transport("SIEM webhook", webhook_url="https://siem.example.net/ingest")
        chat = make_transport("Slack #security", "webhook_slack",
                              webhook_url="https://hooks.slack.example/T000/B000")
        mail = make_transport("Email on-call", "email")
        logins = make_rule("Failed logins", transports=(siem, chat), group=ops)
        changes = make_rule("Admin changes", actions=("model_updated",),
                            transports=(mail,), group=ops)
        failed_login = record("login_failed", {"message": "Bad password for mallory"},
                              app="webapp.views.auth")
        change = record("model_updated", {"message": "Group admins changed"},
                        app="herald.audit")
        db.session.commit()
        rows = [
            (siem, logins, failed_login, "sent", dict(
                attempts=1, last_status_code=202, latency_ms=84, response_excerpt="accepted",
                sent_at=now, next_attempt_at=None), 50),
            (chat, logins, failed_login, "failed", dict(
                attempts=2, last_status_code=503, latency_ms=1_204,
                response_excerpt="upstream connect error",
                error="The receiver answered HTTP 503.",
                next_attempt_at=now + timedelta(minutes=3)), 40),
            (mail, changes, change, "dead", dict(
                attempts=5, error="SMTP 550 5.1.1 mailbox unavailable", next_attempt_at=None),
             30),
            (siem, changes, change, "sending", dict(attempts=1), 5),
            (chat, changes, change, "queued", {}, 1),
        ]
        for transport, rule, event, status, fields, minutes in rows:
            db.session.add(Delivery(
                transport=transport, transport_name=transport.name, rule=rule,
                event_id=event.event_uuid, recipient=ops.users[0], severity="alert",
                body=event.summary, status=status,
                created=now - timedelta(minutes=minutes), **fields))
        db.session.commit()


def test_the_ledger_filters_retries_in_bulk_and_passes_axe(app, page: Page, admin):
    seed_ledger(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto(URL)
    expect(page.locator("#delivery-table tr.herald-delivery-row")).to_have_count(5)
    screenshot(page, "deliveries-ledger")
    violations = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert not violations, readable({URL: violations})

    page.get_by_role("link", name=re.compile(r"^Failed\s+1$")).click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("#delivery-table tr.herald-delivery-row")).to_have_count(1)
    page.get_by_label("Transport", exact=True).select_option(label="Email on-call")
    expect(page).to_have_url(re.compile(r"/events/deliveries/\?status=failed&transport=\d+$"))
    expect(page.locator(".herald-empty-row")).to_contain_text("No deliveries match")

    page.get_by_role("link", name="Clear all").click()
    # The unfiltered rows are back: what is typed now goes into the page that stays.
    expect(page.locator("#delivery-table tr.herald-delivery-row")).to_have_count(5)
    page.get_by_label("From (UTC)").fill("2026-02-30")
    page.get_by_label("From (UTC)").press("Enter")
    expect(page.locator("#filter-error-since")).to_contain_text("not a valid date")
    expect(page.locator("#delivery-table tr.herald-delivery-row")).to_have_count(5)

    page.goto(URL)
    selected = page.locator("#retry-selected")
    expect(selected).to_be_disabled()
    page.get_by_label("Select every failed or dead delivery on this page").check()
    expect(selected).to_have_text(re.compile(r"Retry selected \(2\)"))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Retry all 2 failed/dead").click()
    expect(page.locator("#delivery-notice")).to_be_empty()
    page.once("dialog", lambda dialog: dialog.accept())
    selected.click()
    expect(page.locator("#delivery-notice")).to_contain_text("Queued 2 deliveries again")
    expect(page.get_by_role("link", name=re.compile(r"^Queued\s+3$"))).to_be_visible()
