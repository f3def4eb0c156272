"""Events > Logs in the real browser: filters in the URL (reload, Back), inline errors,
expandable rows with per-action details, and the live tail."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record

BERLIN = {"country": "DE", "city": "Berlin", "continent": "EU", "lat": 52.52, "long": 13.4}


def seed_events(app) -> None:
    now = utcnow()
    with app.app_context():
        for minutes, (user, ip) in enumerate([("alice", "10.1.2.3"), ("alice", "10.9.9.9"),
                                              ("bob", "10.1.7.7")]):
            record("login", {"geo": BERLIN, "auth_method": "password"}, app="webapp.views.auth",
                   user={"pk": 100 + minutes, "username": user, "email": f"{user}@example.com"},
                   client_ip=ip, created=now - timedelta(minutes=10 + minutes))
        record("login_failed", {"username": "mallory"}, app="webapp.views.auth",
               user={"username": "AnonymousUser", "email": "", "is_anonymous": True},
               client_ip="203.0.113.9", created=now - timedelta(minutes=20))
        record("model_updated", {
            "model": {"pk": 5, "app": "herald", "name": "erin", "model_name": "user"},
            "diff": {"email": {"previous_value": "erin@old.example",
                               "new_value": "erin@new.example"}}},
            app="herald.audit", user={"pk": 1, "username": "admin", "email": ""},
            client_ip="10.1.2.3", created=now - timedelta(minutes=30))
        db.session.commit()


def rows(page: Page):
    return page.locator("#event-rows tr.herald-event-row")


def test_three_filters_update_the_table_and_the_url_survive_reload_and_back(app, page: Page,
                                                                           admin):
    seed_events(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/")
    page.get_by_role("button", name="Any action").click()
    page.get_by_label("login", exact=True).check()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"action=login(&|$)"))
    expect(rows(page)).to_have_count(4)  # three seeded sign-ins and the admin's own

    page.get_by_text("More filters").click()
    page.get_by_label("Username").fill("alice")
    expect(page).to_have_url(re.compile(r"username=alice"))
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Client IP or network").fill("10.1.0.0/16")
    expect(page).to_have_url(re.compile(r"client_ip=10\.1\.0\.0%2F16"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("10.1.2.3")
    screenshot(page, "logs-filtered")

    page.reload()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_label("Client IP or network")).to_have_value("10.1.0.0/16")

    page.go_back()
    expect(page).to_have_url(re.compile(r"username=alice(&|$)"))
    expect(page.get_by_label("Client IP or network")).to_have_value("")
    expect(rows(page)).to_have_count(2)


def test_a_bad_cidr_shows_an_inline_message_and_the_table_keeps_its_rows(app, page: Page,
                                                                        admin):
    seed_events(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/?username=alice")
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Client IP or network").fill("10.1.0.0/33")
    message = page.locator("#filter-error-client_ip")
    expect(message).to_contain_text("CIDR")
    expect(page.get_by_label("Client IP or network")).to_have_attribute("aria-invalid", "true")
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"username=alice$"))

    page.get_by_label("Client IP or network").fill("10.1.2.3")
    expect(message).to_be_empty()
    expect(rows(page)).to_have_count(1)


def test_expanding_rows_shows_a_diff_and_the_username_a_failed_sign_in_tried(app, page: Page,
                                                                            admin):
    seed_events(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/?action=model_updated&action=login_failed")
    updated = page.get_by_role("button", name=re.compile("Details of the model_updated event"))
    expect(updated).to_have_attribute("aria-expanded", "false")
    updated.focus()
    page.keyboard.press("Enter")
    expect(updated).to_have_attribute("aria-expanded", "true")
    details = page.locator(f"#{updated.get_attribute('aria-controls')}")
    expect(details).to_be_visible()
    expect(details).to_contain_text("erin@old.example")
    expect(details).to_contain_text("erin@new.example")

    failed = page.get_by_role("button", name=re.compile("Details of the login_failed event"))
    failed.click()
    expect(page.locator(f"#{failed.get_attribute('aria-controls')}")).to_contain_text("mallory")
    screenshot(page, "logs-expanded-diff")

    updated.click()
    expect(updated).to_have_attribute("aria-expanded", "false")
    expect(details).to_be_hidden()


def test_with_live_on_an_event_from_another_client_appears_without_reload(app, page: Page,
                                                                         admin, live_server):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/?action=login_failed")
    expect(page.locator("#event-rows")).to_contain_text("No events match.")
    page.get_by_label("Live").check()
    expect(page.locator("#live-status")).to_contain_text("watching")

    other = requests.Session()
    login_page = other.get(f"{live_server}/auth/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', login_page).group(1)
    other.post(f"{live_server}/auth/login", timeout=5,
               data={"username": "intruder", "password": "guess", "csrf_token": token})

    expect(rows(page)).to_have_count(1, timeout=5_000)
    expect(rows(page).first).to_contain_text("intruder")
    expect(page.locator("#event-rows")).not_to_contain_text("No events match.")
    page.get_by_label("Live").uncheck()
