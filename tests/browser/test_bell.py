"""The bell in the real browser: a failed login in another browser rings the admin's bell
through the live scheduler, with the production polling and no reload; the drawer; mark all
read; and a regular user's bell, history and 403s."""

from __future__ import annotations

import re
from time import monotonic

from playwright.sync_api import Browser, Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.factories import make_group, make_rule, make_transport
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Notification, User
from webapp.system.jobs import JOBS
from webapp.system.scheduler import build_scheduler

#: The header's production interval plus matching's second, with room for a busy machine.
WITHIN_SECONDS = 10


def failed_login_in_another_browser(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server)
    try:
        sign_in(context.new_page(), "admin", "not-the-password")
    finally:
        context.close()


def test_a_failed_login_elsewhere_rings_the_bell_and_mark_all_read_clears_it(
        app, browser: Browser, live_server: str, page: Page, admin):
    with app.app_context():
        ops = make_group("ops", db.session.get(User, admin))
        make_rule("Failed logins", transports=(make_transport("bell", "local"),), group=ops,
                  severity="alert")
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/")
    bell = page.locator("#bell-button")
    expect(bell).to_have_accessible_name("No unread notifications")
    expect(page.locator("#bell-count")).to_have_attribute("hx-trigger", re.compile(r"^every 8s, "))

    pipeline = tuple(job for job in JOBS if job.id.startswith("notification_"))
    scheduler, runner = build_scheduler(app, jobs=pipeline)
    scheduler.start()
    try:
        failed_login_in_another_browser(browser, live_server)
        started = monotonic()
        expect(bell).to_have_accessible_name("1 unread notification",
                                             timeout=WITHIN_SECONDS * 1000)
        assert monotonic() - started <= WITHIN_SECONDS
    finally:
        runner.stop(scheduler)
    expect(page.locator(".herald-bell-badge")).to_have_text("1")
    assert page.url.endswith("/events/")  # no reload, no navigation

    # The whole page in the viewport: the full-page screenshot then shows the drawer as seen.
    page.set_viewport_size({"width": 1280, "height": page.evaluate(
        "document.documentElement.scrollHeight")})
    bell.click()
    drawer = page.get_by_role("dialog", name="Notifications")
    item = drawer.locator("li.herald-notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("alert")
    expect(item).to_contain_text("admin")
    expect(item.get_by_role("link", name="Show event")).to_have_attribute(
        "href", re.compile(r"^/events/[0-9a-f-]{36}$"))
    screenshot(page, "bell-drawer-open")

    drawer.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_accessible_name("No unread notifications")
    expect(page.locator(".herald-bell-badge")).to_have_count(0)
    expect(drawer).to_contain_text("You are all caught up.")


def test_mark_read_on_the_history_page_updates_the_row_and_the_bell(app, page: Page, admin):
    with app.app_context():
        db.session.add_all(Notification(user_id=admin, severity=severity, body=f"A {severity}",
                                        created=utcnow())
                           for severity in ("notice", "warning"))
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/")
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Notifications").click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    page.wait_for_load_state()  # the URL changes before the page's scripts listen for changes

    page.get_by_label("Show").select_option("unread")
    expect(page).to_have_url(re.compile(r"seen=unread"))
    rows = page.locator("#notification-history tbody tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text="A warning").get_by_role("button", name="Mark read").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#bell-button")).to_have_accessible_name("1 unread notification")


def test_a_regular_user_sees_their_bell_and_history_and_403_on_admin_pages(
        app, page: Page, regular_user):
    with app.app_context():
        db.session.add(Notification(user_id=regular_user, severity="warning",
                                    body="Your password was changed", created=utcnow()))
        db.session.commit()
    sign_in(page, "alice", USER_PASSWORD)
    page.wait_for_url(re.compile(r"^(?!.*/auth/login)"))
    expect(page.locator("#bell-button")).to_have_accessible_name("1 unread notification")
    page.locator("#bell-button").click()
    expect(page.get_by_role("dialog", name="Notifications")).to_contain_text(
        "Your password was changed")
    page.get_by_role("link", name="All notifications").click()
    expect(page.locator("#notification-history")).to_contain_text("Your password was changed")

    for url in ("/overview", "/events/", "/events/map", "/reports/", "/directory/users",
                "/directory/groups", "/settings/"):
        response = page.goto(url)
        assert response is not None and response.status == 403, url


def set_visibility(page: Page, state: str) -> None:
    """What switching tabs does to the page: the state changes, then visibilitychange fires."""
    page.evaluate("""state => {
        Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", state)


def test_the_count_asks_nothing_while_the_tab_is_hidden_and_refreshes_when_shown(
        page: Page, admin):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/")
    page.wait_for_load_state("networkidle")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url)
            if "/notifications/badge" in request.url else None)

    set_visibility(page, "hidden")
    page.evaluate("htmx.trigger(document.body, 'notifications-changed')")
    page.wait_for_timeout(1000)
    assert polls == []

    with page.expect_request(re.compile(r"/notifications/badge\?shown=0$")):
        set_visibility(page, "visible")
