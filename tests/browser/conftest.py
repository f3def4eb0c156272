"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live server.

Every page is guarded: a request to any host other than 127.0.0.1 is aborted and fails the
test, so a CDN link or online tile sneaking into a template is caught here; so does anything
the Content-Security-Policy had to block (an inline script that would not run in production).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.live import VIEWPORT, launch_chromium, serving, sign_in

__all__ = ["sign_in"]  # the specs import it from here
HERE = Path(__file__).parent
#: How long a page may take to show what a spec expects. CI runs the SQLite and PostgreSQL
#: passes at once on two cores, each with its own Chromium; Playwright's 5 s for `expect`
#: (beside the pages' 10 s for actions) was missed there now and then, by a loaded machine,
#: not by a slow page.
EXPECT_SECONDS = 15
expect.set_options(timeout=EXPECT_SECONDS * 1000)
#: A browser spec that fails is run once more before it counts as failed. Three CI runs in a
#: row were lost to one spec each that acted a moment too early on the loaded machine (fixed
#: each time, see the wait_for_load_state comments); a real defect fails both runs, and the
#: summary still lists every rerun ("R"), so a spec that needs one is seen and fixed.
BROWSER_RERUNS = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every spec in this directory is a browser spec (`-m browser` selects them all)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT)
    foreign: list[str] = []

    def guard(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(EXPECT_SECONDS * 1000)
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not foreign, f"the page tried to reach other hosts: {foreign}"
    assert not blocked, f"the Content-Security-Policy blocked something: {blocked}"
