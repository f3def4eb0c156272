"""Events > Map over HTTP: the page, its frame document and the frame's own CSP.

The frame is the one document that runs inline script (folium's), so its response must allow
exactly that script by a fresh nonce while every other page keeps `script-src 'self'`; its data
(places, popups) must never be able to add a script; and it loads nothing from another host.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import make_event
from webapp.core.db_types import utcnow
from webapp.views.events.map import tile_source
from webapp.web.security import CONTENT_SECURITY_POLICY

BERLIN = {"country": "DE", "city": "Berlin", "continent": "EU", "lat": 52.52, "long": 13.4}
AUCKLAND = {"country": "NZ", "city": "Auckland", "continent": "OC", "lat": -36.85,
            "long": 174.76}
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.fixture
def places(app):
    with app.app_context():
        for minutes in (5, 6, 7):
            make_event("login", created=utcnow() - timedelta(minutes=minutes), geo=BERLIN)
        make_event("login_failed", created=utcnow() - timedelta(minutes=9), geo=BERLIN)
        make_event("login_failed", created=utcnow() - timedelta(hours=30), geo=AUCKLAND)


def markers(html: str) -> list[list]:
    """The places the frame draws: FastMarkerCluster's data array, parsed back."""
    match = re.search(r"var data = (\[.*?\]);\n", html, re.DOTALL)
    assert match, "no marker data in the frame"
    return json.loads(match.group(1))


def policy(response) -> dict[str, list[str]]:
    directives = response.headers["Content-Security-Policy"].split(";")
    return {name: values for name, *values in (part.split() for part in directives)}


def test_the_page_defaults_to_the_last_7_days_and_frames_the_map(admin_client, places):
    page = admin_client.get("/events/map")

    assert page.status_code == 200
    assert re.search(r'<option value="7d"\s+selected', page.text)
    frame_src = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', page.text).group(1))
    assert frame_src == "/events/map/frame?period=7d"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert 'href="/events/map"' in page.text  # the sidebar link
    assert "<script>" not in page.text


def test_the_frame_allows_exactly_its_inline_script_by_a_fresh_nonce(admin_client, places):
    first = admin_client.get("/events/map/frame?period=7d")
    second = admin_client.get("/events/map/frame?period=7d")

    assert first.status_code == 200
    nonces = [value for value in policy(first)["script-src"] if value.startswith("'nonce-")]
    assert policy(first)["script-src"] == ["'self'", nonces[0]]
    nonce = nonces[0][len("'nonce-"):-1]
    assert len(nonce) >= 16 and nonce not in second.text
    assert policy(second)["script-src"] != policy(first)["script-src"]
    inline, linked = [], []
    for attributes in SCRIPT_TAG.findall(first.text):
        (linked if "src=" in attributes else inline).append(attributes.strip())
    assert inline and all(attributes == f'nonce="{nonce}"' for attributes in inline)
    assert all(not attributes.startswith("nonce") for attributes in linked)
    # Everything else stays as strict as the app-wide policy.
    rest = {name: values for name, values in policy(first).items() if name != "script-src"}
    assert rest == {name: values for name, values in _app_policy().items()
                    if name != "script-src"}


def test_the_frame_loads_only_vendored_files_from_this_host(admin_client, places):
    html = admin_client.get("/events/map/frame?period=7d").text

    urls = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/static/") for url in urls), urls
    assert "/static/vendor/leaflet/leaflet.js" in urls
    assert "/static/vendor/leaflet.heat/leaflet-heat.js" in urls
    assert "https://" not in html and "http://" not in html
    assert "jquery" not in html.lower() and "awesome" not in html.lower()
    assert "L.tileLayer" not in html  # no online tiles unless configured
    assert "/static/vendor/world-atlas/countries-110m.json" in html


def test_markers_are_places_sized_by_count_and_coloured_by_category(app, admin_client,
                                                                     places):
    rows = markers(admin_client.get("/events/map/frame?period=24h").text)
    assert [(row[5], row[2], row[3]) for row in rows] == [("Berlin, DE", 4, "#009E73")]

    with app.app_context():
        for _ in range(2):
            make_event("suspicious_request", geo=AUCKLAND)
    berlin, auckland = markers(admin_client.get("/events/map/frame?period=7d").text)
    assert (berlin[:4], auckland[:4]) == ([52.52, 13.4, 4, "#009E73"],
                                          [-36.85, 174.76, 3, "#D55E00"])
    assert berlin[4] > auckland[4]  # the dot's diameter grows with the count


def test_popups_link_to_the_latest_event_and_to_logs_for_the_place(app, admin_client, places):
    rows = markers(admin_client.get(
        "/events/map/frame?action=login&action=login_failed&period=24h&country=DE").text)

    popup = rows[0][6]
    assert "Berlin, DE" in popup and re.search(r">login<.*?>3<", popup, re.DOTALL)
    links = dict((unescape(href), attributes) for attributes, href in re.findall(
        r'<a ([^>]*)href="([^"]+)"', popup))
    logs = next(href for href in links if href.startswith("/events/?"))
    assert parse_qs(urlsplit(logs).query) == {
        "action": ["login", "login_failed"], "period": ["24h"], "country": ["DE"],
        "city": ["Berlin"]}
    latest = next(href for href in links if re.fullmatch(r"/events/[0-9a-f-]{36}", href))
    with app.app_context():
        from tests.helpers import events

        newest = max((e for e in events() if e.city == "Berlin"), key=lambda e: e.created)
    assert latest == f"/events/{newest.pk}"
    assert 'target="_top"' in popup and popup.count('target="_top"') == 2


def test_place_data_never_adds_a_script(admin_client, app):
    hostile = "</script><script>alert(1)</script>"
    with app.app_context():
        make_event("login", geo={**BERLIN, "city": hostile})
        make_event("login", geo={**AUCKLAND}, username=hostile)

    response = admin_client.get("/events/map/frame?period=24h")

    assert response.status_code == 200
    assert "alert(1)</script>" not in response.text
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    tags = SCRIPT_TAG.findall(response.text)
    assert all("src=" in tag or tag.strip() == f'nonce="{nonce}"' for tag in tags)
    assert any(hostile in row[5] for row in markers(response.text))


def test_online_tiles_only_when_configured(app, admin_client, places):
    assert "L.tileLayer" not in admin_client.get("/events/map/frame").text

    app.config["MAP_TILES_URL"] = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    app.config["MAP_TILES_ATTRIBUTION"] = "© Example contributors"
    response = admin_client.get("/events/map/frame")

    assert "L.tileLayer" in response.text and "https://{s}.tile.example.org" in response.text
    assert r'"attribution": "\u00a9 Example contributors"' in response.text
    assert policy(response)["img-src"] == ["'self'", "data:", "https://*.tile.example.org"]
    assert "countries-110m.json" in response.text  # the outline is still drawn


@pytest.mark.parametrize(("url", "source"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.basemaps.example/{z}/{x}/{y}.png", "https://*.basemaps.example"),
    ("http://tiles.lan:8080/{z}/{x}/{y}.png", "http://tiles.lan:8080"),
    ("https://tiles-{s}.example/{z}/{x}/{y}.png", "https:"),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("javascript:alert(1)", None),
    (None, None),
])
def test_the_tile_servers_csp_source(url, source):
    assert tile_source(url) == source


def test_nothing_located_says_so(admin_client, app):
    with app.app_context():
        make_event("login")  # no place

    page = admin_client.get("/events/map")
    frame = admin_client.get("/events/map/frame")

    assert "No geo-located events match this filter." in page.text
    assert "<iframe" not in page.text
    assert frame.status_code == 200 and "No geo-located events" in frame.text
    assert frame.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_compact_frame_has_no_layer_control_heat_or_totals(admin_client, places):
    html = admin_client.get("/events/map/frame?action=login_failed&period=24h&compact=1").text

    assert len(markers(html)) == 1
    assert "L.control.layers" not in html and "L.heatLayer" not in html
    assert "showTotals" not in html and '"scrollWheelZoom": false' in html
    full = admin_client.get("/events/map/frame?action=login_failed&period=24h").text
    assert "L.control.layers" in full and "L.heatLayer" in full and "showTotals" in full


def test_a_bad_filter_from_htmx_answers_with_the_inline_errors_only(admin_client, places):
    response = admin_client.get("/events/map?country=Germany&period=7d",
                                headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.headers["HX-Reswap"] == "none"
    assert 'id="filter-error-country"' in response.text and "two-letter" in response.text
    assert "map-results" not in response.text and "<iframe" not in response.text


def test_a_bad_filter_on_a_full_page_shows_its_error_and_maps_the_rest(admin_client, places):
    response = admin_client.get("/events/map?country=Germany&period=7d&since=yesterday")

    assert response.status_code == 200
    assert "two-letter" in response.text
    frame_src = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', response.text).group(1))
    assert frame_src == "/events/map/frame?period=7d"


def test_a_good_filter_from_htmx_swaps_the_results(admin_client, places):
    response = admin_client.get("/events/map?action=login_failed&period=30d",
                                headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<div id="map-results">')
    assert "/events/map/frame?action=login_failed&amp;period=30d" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_chart_beside_the_map_narrows_the_map(admin_client, places):
    response = admin_client.get("/events/map/chart?period=7d")

    assert response.status_code == 200 and 'id="volume-chart"' in response.text
    assert 'href="/events/map?action=login&amp;period=7d"' in response.text


def test_only_administrators_see_the_map(client, user_client):
    for url in ("/events/map", "/events/map/frame", "/events/map/chart"):
        assert user_client.get(url).status_code == 403
    anonymous = client.application.test_client()
    for url in ("/events/map", "/events/map/frame?compact=1"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def _app_policy() -> dict[str, list[str]]:
    return {name: values for name, *values in
            (part.split() for part in CONTENT_SECURITY_POLICY.split(";"))}
