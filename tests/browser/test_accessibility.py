"""Accessibility: axe-core over every page of the sidebar and the pages one click beyond.

The sidebar's links are read from the page, so a new page is walked as soon as it is linked.
axe-core (a test-only npm dependency, never served by the app) is injected by evaluating its
source through the DevTools protocol, which the page's Content-Security-Policy does not govern:
the app's `script-src 'self'` stays exactly as strict as in production. Any violation of
impact "serious" or "critical" fails the test, listed page by page.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.live import AXE
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD
from tests.factories import make_event, make_token, make_user
from webapp.core.extensions import db
from webapp.directory.accounts import ensure_admins_group
from webapp.models import Notification, User

BLOCKING = {"serious", "critical"}
#: Pages one click beyond the sidebar: (page that links to it, pattern of its link).
BEYOND = (
    ("/events/", r"^/events/[0-9a-f-]{36}$"),
    ("/directory/users", r"^/directory/users/\d+$"),
    ("/directory/groups", r"^/directory/groups/\d+$"),
)


def test_every_admin_page_passes_axe(app, page: Page, admin):
    with app.app_context():
        ensure_admins_group(db.session.get(User, admin))
        make_token(make_user("bob"), identifier="ci-token")
        make_event("login_failed", username="root")
        make_event("model_updated", message="Settings changed")
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)

    pages = sidebar_links(page)
    assert {"/overview", "/events/", "/settings/"} <= set(pages), pages
    for source, pattern in BEYOND:
        page.goto(source)
        pages.append(first_link(page, pattern))

    report = {url: blocking_violations(page, url) for url in pages}
    page.goto("/overview")
    screenshot(page, "overview")  # for people to look at (test-artifacts/, not committed)
    assert not any(report.values()), readable(report)


def test_the_sign_in_page_and_a_regular_users_pages_pass_axe(page: Page, regular_user):
    report = {"/auth/login": blocking_violations(page, "/auth/login")}
    sign_in(page, "alice", USER_PASSWORD)
    page.wait_for_url(re.compile(r"^(?!.*/auth/login)"))
    report.update({url: blocking_violations(page, url)
                   for url in [*sidebar_links(page), "/notifications/"]})

    assert len(report) >= 3, report
    assert not any(report.values()), readable(report)


def test_the_bell_its_open_drawer_and_the_notifications_page_pass_axe(app, page: Page, admin):
    """Every severity's colours, read and unread rows, and the drawer in its open state,
    which no page walk reaches by itself."""
    with app.app_context():
        for seen, severity in enumerate(("notice", "warning", "alert")):
            db.session.add(Notification(user_id=admin, severity=severity, seen=bool(seen % 2),
                                        body=f"A {severity} for the walk",
                                        hyperlink=f"/events/{make_event('login_failed').pk}",
                                        hyperlink_label="Show event"))
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)
    report = {"/notifications/": blocking_violations(page, "/notifications/")}

    page.locator("#bell-button").click()
    page.get_by_role("dialog", name="Notifications").locator("li").first.wait_for()
    report["the open bell drawer"] = [violation for violation in run_axe(page)
                                      if violation["impact"] in BLOCKING]
    assert not any(report.values()), readable(report)


def test_axe_runs_under_the_apps_strict_policy_and_finds_a_planted_fault(page: Page, admin):
    """The walk is only worth something if axe really ran: a button with no name is found."""
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/overview")
    assert "script-src 'self'" in page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')")
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML("
                  "'beforeend', '<button type=\"button\"></button>')")

    assert "button-name" in {violation["id"] for violation in run_axe(page)}


def sidebar_links(page: Page) -> list[str]:
    """The paths the main navigation links to, in order (read from whatever page is open)."""
    links = page.get_by_role("navigation", name="Main").locator("a.nav-link")
    return list(dict.fromkeys(links.evaluate_all("links => links.map(a => a.pathname)")))


def first_link(page: Page, pattern: str) -> str:
    paths = page.locator("main a[href]").evaluate_all("links => links.map(a => a.pathname)")
    found = [path for path in paths if re.match(pattern, path)]
    assert found, f"no link like {pattern} on {page.url}"
    return found[0]


def blocking_violations(page: Page, url: str) -> list[dict[str, Any]]:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    return [violation for violation in run_axe(page) if violation["impact"] in BLOCKING]


def run_axe(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
        }));
    }""")


def readable(report: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["axe-core found serious or critical accessibility violations:"]
    for url, violations in report.items():
        for violation in violations:
            lines.append(f"\n{url}: [{violation['impact']}] {violation['id']}: {violation['help']}")
            for node in violation["nodes"][:5]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}\n      {summary}")
            if len(violation["nodes"]) > 5:
                lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)
