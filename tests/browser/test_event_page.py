"""An event's page in the real browser: the diff, the related events (same request, same user,
the object's previous / next change) and the raw JSON, readable and accessible."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.browser.live import AXE
from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_user
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import User

#: The changed user exists only in the events (the real "dana" is who joins the group).
FOX = {"pk": 4242, "app": "herald", "name": "fox", "model_name": "user"}
SAVE_REQUEST = "9f2c4e0a1b3d4c5e8f7a6b5c4d3e2f10"
GROUP = {"pk": "3b7e", "app": "herald", "name": "admins", "model_name": "group"}


def seed(app, admin_id: int) -> dict[str, str]:
    """A change of fox's email with its neighbours: an earlier and a later change of fox, a
    group membership change (dana joins) in the same request, and the admin's sign-in."""
    now = utcnow()
    with app.app_context():
        admin = db.session.get(User, admin_id)
        dana = make_user("dana", email="scully@example.com")
        model = FOX

        def change(minutes: float, context: dict, action: str = "model_updated",
                   request_id: str | None = None) -> str:
            request = {"path": f"/directory/users/{FOX['pk']}", "method": "POST",
                       "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
                       "request_id": request_id or uuid.uuid4().hex}
            event = record(action, {"http_request": request, **context}, user=admin,
                           client_ip="81.2.69.160", created=now + timedelta(minutes=minutes),
                           app="herald.audit")
            return event.pk

        ids = {
            "created": change(-60 * 24 * 3, {"model": model, "diff": {"email": {
                "previous_value": None, "new_value": "fox@example.com"}}}, "model_created"),
            "login": change(-4, {"auth_method": "password"}, "login"),
            "this": change(0, {"model": model, "diff": {
                "email": {"previous_value": "fox@example.com",
                          "new_value": "mulder@example.com"},
                "name": {"previous_value": "Fox", "new_value": "Fox Mulder"}}},
                request_id=SAVE_REQUEST),
            "membership": change(0, {"model": GROUP, "diff": {"users": {"add": [dana.id]}}},
                                 request_id=SAVE_REQUEST),
            "later": change(90, {"model": model, "diff": {"is_active": {
                "previous_value": True, "new_value": False}}}),
        }
        db.session.commit()
    return ids


def test_the_event_page_shows_the_diff_and_lists_related_events(app, page: Page, admin):
    ids = seed(app, admin)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto(f"/events/{ids['this']}")

    diff = page.locator("#event-diff")
    expect(diff.get_by_role("row")).to_have_count(3)  # the header and two changed fields
    expect(diff.get_by_role("row", name=re.compile("^email"))).to_contain_text(
        '"fox@example.com" "mulder@example.com"')

    related = page.get_by_role("region", name="Related events")
    same_request = related.get_by_role("region", name="Same request")
    expect(same_request.get_by_role("link")).to_have_count(1)
    expect(same_request).to_contain_text("model_updated")
    same_user = related.get_by_role("region", name="Same user, ±10 minutes")
    # the seeded sign-in, the group change, and this test's own sign-in a moment ago
    expect(same_user.get_by_role("link")).to_have_count(3)
    expect(same_user).to_contain_text("4 min earlier")
    history = related.get_by_role("region", name="This object’s history")
    expect(history).to_contain_text("Previous change")
    expect(history).to_contain_text("3 days earlier")
    expect(history).to_contain_text("1 h later")
    expect(history.get_by_role("link", name="All changes of this object")).to_have_attribute(
        "href", re.compile(r"model_pk=\d+"))
    expect(page.get_by_role("region", name="Raw event")).to_contain_text('"new_value": "mulder')

    screenshot(page, "event-page")

    history.get_by_role("link", name="model_updated").click()  # the next change
    expect(page).to_have_url(re.compile(ids["later"]))
    expect(page.locator("#event-diff")).to_contain_text("is_active")
    page.get_by_role("region", name="This object’s history").get_by_role(
        "link", name="model_updated").click()  # and back to its previous change
    expect(page).to_have_url(re.compile(ids["this"]))


def test_the_event_page_has_no_serious_accessibility_violations(app, page: Page, admin):
    ids = seed(app, admin)
    sign_in(page, "admin", ADMIN_PASSWORD)
    for event_id in (ids["this"], ids["membership"], ids["login"]):
        page.goto(f"/events/{event_id}")
        page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script>, which the CSP blocks
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]}
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, json.dumps(serious, indent=2)
