"""Events > Map in the real browser: places and the world outline drawn from this machine only
(the `page` fixture fails the test on any request to another host or any CSP violation), and a
place's popup leads to Logs filtered to that place."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.browser.artifacts import screenshot
from tests.browser.conftest import sign_in
from tests.conftest import ADMIN_PASSWORD
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.demo import load_demo
from webapp.events import record

BERLIN = {"country": "DE", "city": "Berlin", "continent": "EU", "lat": 52.52, "long": 13.4}
AUCKLAND = {"country": "NZ", "city": "Auckland", "continent": "OC", "lat": -36.85,
            "long": 174.76}


def seed_places(app) -> None:
    now = utcnow()
    with app.app_context():
        for minutes in range(3):
            record("login", {"geo": BERLIN}, user={"pk": 7, "username": "alice"},
                   client_ip="198.51.100.7", created=now - timedelta(minutes=5 + minutes))
        record("login_failed", {"geo": AUCKLAND, "username": "mallory"},
               user={"username": "AnonymousUser", "is_anonymous": True},
               client_ip="203.0.113.9", created=now - timedelta(minutes=30))
        db.session.commit()


def open_map(page: Page, url: str = "/events/map"):
    """The map page and its frame, once Leaflet has drawn the world outline."""
    page.goto(url)
    frame = page.frame_locator("iframe.herald-map-frame")
    expect(frame.locator(".folium-map[data-world=drawn]")).to_be_attached()
    return frame


def test_the_map_draws_places_and_the_world_from_this_machine_only(app, page: Page, admin):
    seed_places(app)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Map", exact=True).click()
    expect(page).to_have_url(re.compile(r"/events/map$"))
    frame = open_map(page, page.url)

    expect(frame.locator(".herald-place")).to_have_count(2)
    expect(frame.locator(".herald-place[title^='Berlin, DE: 3 events']")).to_be_visible()
    # The outline: one path per country of world-atlas's 110m map, in its own pane.
    assert frame.locator(".leaflet-herald-world-pane path").count() > 150
    expect(frame.locator(".herald-totals")).to_have_text("4 events in 2 places")
    paths = {urlsplit(url).path for url in requests}
    assert {"/static/vendor/leaflet/leaflet.js",
            "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
            "/static/vendor/world-atlas/countries-110m.json"} <= paths
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in requests), requests


def test_a_popup_link_opens_logs_filtered_to_that_place(app, page: Page, admin):
    seed_places(app)
    with app.app_context():  # elsewhere, and outside the filter: Logs must not show these
        record("login", {"geo": {**BERLIN, "city": "Munich", "lat": 48.14, "long": 11.58}},
               client_ip="198.51.100.8")
        record("logout", {"geo": BERLIN}, client_ip="198.51.100.7")
        db.session.commit()
    sign_in(page, "admin", ADMIN_PASSWORD)
    frame = open_map(page, "/events/map?action=login&period=24h")

    # Berlin and Munich are one cluster on the world view, labelled with their events.
    expect(frame.locator(".herald-place")).to_have_count(0)
    expect(frame.locator(".herald-cluster")).to_have_text("4")
    frame.locator(".herald-cluster").click()
    frame.locator(".herald-place[title^='Berlin']").click()
    popup = frame.locator(".leaflet-popup-content")
    expect(popup.get_by_role("heading", name="Berlin, DE")).to_be_visible()
    expect(popup.locator(".herald-popup-actions li")).to_have_text([re.compile(r"login\s*3")])
    # Enter, not a click: the popup may still be panning the map into view, and a click
    # aimed at where its link was a moment ago lands on the map (seen once on CI).
    popup.get_by_role("link", name="Show in Logs").press("Enter")

    expect(page).to_have_url(re.compile(r"/events/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"action": ["login"], "period": ["24h"], "country": ["DE"],
                     "city": ["Berlin"]}
    expect(page.locator("#event-rows tr.herald-event-row")).to_have_count(3)


def test_the_latest_event_link_opens_its_page_in_the_whole_window(app, page: Page, admin):
    seed_places(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    frame = open_map(page)
    frame.locator(".herald-place[title^='Auckland']").click()
    frame.locator(".leaflet-popup-content").get_by_role("link", name="login_failed").press("Enter")
    expect(page).to_have_url(re.compile(r"/events/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("login_failed")


def test_the_heat_layer_toggles_and_a_filter_change_redraws_the_map(app, page: Page, admin):
    seed_places(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    frame = open_map(page)
    expect(frame.locator("canvas.leaflet-heatmap-layer")).to_have_count(0)
    frame.get_by_label("Heat map").check()
    expect(frame.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)

    page.get_by_role("button", name="Any action").click()
    page.get_by_label("login_failed", exact=True).check()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"action=login_failed"))
    frame = page.frame_locator("iframe.herald-map-frame")
    expect(frame.locator(".herald-place")).to_have_count(1)
    expect(frame.locator(".herald-place[title^='Auckland']")).to_be_visible()


def test_nothing_located_says_so_instead_of_an_empty_map(app, page: Page, admin):
    seed_places(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/events/map?action=model_deleted")
    expect(page.locator("#map-empty")).to_contain_text("No geo-located events")
    expect(page.locator("iframe.herald-map-frame")).to_have_count(0)


def test_the_compact_frame_for_the_overview(app, page: Page, admin):
    seed_places(app)
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.set_viewport_size({"width": 520, "height": 280})  # about the Overview's card
    page.goto("/events/map/frame?action=login_failed&period=24h&compact=1")
    expect(page.locator(".folium-map[data-world=drawn]")).to_be_attached()
    expect(page.locator(".herald-place")).to_have_count(1)
    expect(page.locator(".leaflet-control-layers")).to_have_count(0)
    expect(page.locator(".herald-totals")).to_have_count(0)
    screenshot(page, "map-compact")


def test_screenshot_of_the_map_with_demo_events(app, page: Page, admin):
    with app.app_context():
        load_demo(3_000, days=7, until=utcnow(), seed=3)
    sign_in(page, "admin", ADMIN_PASSWORD)
    frame = open_map(page)
    expect(frame.locator(".herald-place, .herald-cluster").first).to_be_visible()
    expect(page.locator("#volume-chart")).to_be_visible()
    frame.locator(".herald-place").first.click()
    expect(frame.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    screenshot(page, "map")
