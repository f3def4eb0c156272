"""`make screenshots`: the README's pictures, taken from a real Herald in a real browser.

    python -m scripts.screenshots

A throwaway Herald (migrated and bootstrapped SQLite file in a temporary folder) gets the
demo events from the app's own loader, seeded so every run draws the same picture, and is
served on 127.0.0.1. Debian's Chromium, driven by Playwright, then does what an administrator
does: opens the Overview, expands a diff in Logs, opens the map, writes a rule and previews
it. A few failed sign-ins from a second browser fire that rule; the matcher and one delivery
pass (the scheduler's own functions) ring the bell and send to a webhook receiver on
127.0.0.1 that answers 500, so the ledger has a failed delivery to show. Each picture waits
for what its name promises before it is taken, and lands in docs/screenshots/.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.live import VIEWPORT, launch_chromium, serving, sign_in
from tests.browser.pickers import pick
from tests.factories import make_transport
from tests.integration.receivers import Reply, http_receiver
from webapp import create_app
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.events.rollups import refresh_rollups
from webapp.notifications.delivery import send_batch
from webapp.notifications.matching import match_pending

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DEMO = {"count": 20_000, "days": 14, "seed": 2024}
ADMIN_PASSWORD = "screenshots-admin-password"
TIMEOUT_MS = 30_000
WEBHOOK = "SIEM webhook"
#: Names a password-guessing script tries; each failed sign-in fires the rule.
GUESSED_USERNAMES = ("root", "administrator", "admin")
#: The Overview down to its map (the recent events below would add only bytes).
OVERVIEW_HEIGHT = 1400
#: Resolves when every transition and finite animation on the page has ended (a spinner's
#: endless one is left out); a function, since the page's CSP forbids evaluating strings.
FINITE_ANIMATIONS_END = """() => Promise.all(document.getAnimations()
    .filter(animation => animation.effect.getComputedTiming().endTime !== Infinity)
    .map(animation => animation.finished.catch(() => null)))"""


def main() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="herald-screenshots-") as folder, \
            http_receiver() as receiver:
        receiver.default = Reply(500, b"SIEM ingest is down for maintenance")
        app = create_app({"SECRET_KEY": secrets.token_urlsafe(32),
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/herald.sqlite3",
                          "SCHEDULER": False, "BOOTSTRAP_PASSWORD": ADMIN_PASSWORD})
        prepare(app, receiver.url)
        try:
            with serving(app) as url, sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_context(base_url=url, viewport=VIEWPORT).new_page()
                # Generous: the machine may be busy, and a slow page is no reason to give up.
                page.set_default_timeout(TIMEOUT_MS)
                expect.set_options(timeout=TIMEOUT_MS)
                sign_in(page, "admin", ADMIN_PASSWORD)
                expect(page).not_to_have_url(re.compile("/auth/login"))
                # The Overview and the map with its chart below are taller than the window.
                for shot, size in ((overview, OVERVIEW_HEIGHT), (logs_diff, "window"),
                                   (map_chart, "page"), (rule_preview, "window")):
                    take(page, shot, size)
                save_rule(page)
                fail_sign_ins(browser, url)
                deliver(app)
                for shot in (bell_drawer, ledger):
                    take(page, shot)
                browser.close()
        finally:
            with app.app_context():
                db.engine.dispose()


def prepare(app: Flask, webhook_url: str) -> None:
    """The schema and first admin through Herald's own commands, the demo events through its
    loader, and the webhook transport the rule will send to."""
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["bootstrap"]):
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
    with app.app_context():
        load_demo(DEMO["count"], days=DEMO["days"], until=utcnow(), seed=DEMO["seed"])
        refresh_rollups()
        make_transport(WEBHOOK, webhook_url=webhook_url)


def take(page: Page, shot: Callable[[Page], None],
         size: Literal["window", "page"] | int = "window") -> None:
    """Run one shot (it leaves the page as the picture should be), let transitions end (a
    chevron caught mid-turn looks broken), and save the window, the whole page, or the page
    from its top down to `size` pixels."""
    shot(page)
    for frame in page.frames:  # the map's frame fades its clusters in
        frame.evaluate(FINITE_ANIMATIONS_END)
    path = SCREENSHOTS / f"{shot.__name__.replace('_', '-')}.png"
    if isinstance(size, int):
        page.screenshot(path=str(path), full_page=True,
                        clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": size})
    else:
        page.screenshot(path=str(path), full_page=size == "page")
    print(f"{path.relative_to(SCREENSHOTS.parents[1])}: {path.stat().st_size // 1024} KiB")


def overview(page: Page) -> None:
    page.goto("/overview")
    for chart in ("sign-ins", "categories"):
        expect(page.locator(f"#overview-chart-{chart} svg rect").first).to_be_visible()
    failed_map = page.frame_locator("iframe[title^='Map of where failed sign-ins']")
    expect(failed_map.locator(".folium-map[data-world=drawn]")).to_be_attached()


def logs_diff(page: Page) -> None:
    """A group's membership change: its diff names the people added or removed."""
    page.goto("/events/?action=model_updated&model_name=group")
    row = page.get_by_role("button", name=re.compile("Details of the model_updated event")).first
    row.click()
    diff = page.locator(f"#{row.get_attribute('aria-controls')}").get_by_role(
        "table", name=re.compile("^Changed fields"))
    expect(diff).to_be_visible()
    # Instantly: Bootstrap scrolls smoothly, and a picture taken mid-scroll is torn.
    diff.evaluate("table => table.scrollIntoView({block: 'center', behavior: 'instant'})")


def map_chart(page: Page) -> None:
    page.goto("/events/map?period=7d")
    expect(page.locator("#volume-chart svg rect").first).to_be_visible()
    frame = page.frame_locator("iframe.herald-map-frame")
    expect(frame.locator(".folium-map[data-world=drawn]")).to_be_attached()
    expect(frame.locator(".herald-place, .herald-cluster").first).to_be_visible()


def rule_preview(page: Page) -> None:
    """A rule for failed sign-ins, written in the form and previewed over the demo events."""
    page.goto("/events/rules/new")
    page.get_by_label("Name", exact=True).fill("Failed sign-ins to the SIEM")
    page.get_by_label("Severity").select_option("warning")
    page.get_by_role("button", name="New event matcher").click()
    page.locator("#binding-0").get_by_label("Action").select_option("login_failed")
    pick(page, "Notify group", "adm", "admins")
    page.get_by_label("Transports").select_option(label=[WEBHOOK, "default-local-transport"])
    page.get_by_role("button", name="Run preview").click()
    expect(page.locator("#preview-matches tbody tr").first).to_be_visible()


def save_rule(page: Page) -> None:
    """Save the previewed rule, so that the failed sign-ins that follow fire it."""
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".alert-success")).to_contain_text("Created rule")


def fail_sign_ins(browser: Browser, url: str) -> None:
    """Guess passwords from another browser, as a script would."""
    attacker = browser.new_context(base_url=url)
    page = attacker.new_page()
    for username in GUESSED_USERNAMES:
        sign_in(page, username, "password123")
        expect(page.get_by_text("Invalid username or password.")).to_be_visible()
    attacker.close()


def deliver(app: Flask) -> None:
    """One pass of the scheduler's notification jobs: match the new events, send once."""
    with app.app_context():
        match_pending()
        send_batch(app, "screenshots")


def bell_drawer(page: Page) -> None:
    page.goto("/events/")
    bell = page.locator("#bell-button")
    expect(bell).to_have_accessible_name(re.compile(r"^\d+ unread notifications?$"))
    bell.click()
    drawer = page.get_by_role("dialog", name="Notifications")
    expect(drawer.locator("li.herald-notification").first).to_be_visible()


def ledger(page: Page) -> None:
    page.goto("/events/deliveries/")
    failed = page.locator("#delivery-table tr.herald-delivery-row",
                          has_text="Failed, will retry").first
    expect(failed).to_contain_text("HTTP 500")
    failed.get_by_role("button", name=re.compile("^Details of")).click()
    expect(page.locator(".herald-details-row").first).to_contain_text("SIEM ingest is down")


if __name__ == "__main__":
    main()
