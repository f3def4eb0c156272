"""Events from public client IPs carry `context.geo` and `context.asn` from the MaxMind files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import events, login
from tests.mmdb import (
    GOOGLE,
    LONDON,
    City,
    ManualClock,
    count_stats,
    write_asn_db,
    write_city_db,
    write_corrupt_db,
)
from webapp import create_app
from webapp.core.config import config_for_tests as base_config
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.geoip import init_geoip

PUBLIC_IP = "81.2.69.160"
LONDON_GEO = {"continent": "EU", "country": "GB", "lat": 51.5142, "long": -0.0931,
              "city": "London"}
GOOGLE_ASN = {"asn": 15169, "as_org": "Google LLC", "network": "81.2.69.0/24"}
# The files also list the local networks, so only Herald's filter keeps them out.
LISTED = ("81.2.69.0/24", "10.0.0.0/8", "127.0.0.0/8", "::1/128")


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    return write_city_db(tmp_path / "GeoLite2-City.mmdb", dict.fromkeys(LISTED, LONDON))


@pytest.fixture
def asn_db(tmp_path: Path) -> Path:
    return write_asn_db(tmp_path / "GeoLite2-ASN.mmdb", dict.fromkeys(LISTED, GOOGLE))


@pytest.fixture
def make_app(app: Flask, database_uri: str) -> Iterator[Callable[..., Flask]]:
    """Apps configured as a deployment would be, on the test database that `app` just reset."""
    made: list[Flask] = []

    def make(**config) -> Flask:
        made.append(create_app({**base_config(database_uri), **config}))
        return made[-1]

    yield make
    for each in made:
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def geo_app(make_app, city_db: Path, asn_db: Path) -> Flask:
    return make_app(GEOIP_CITY_DB=str(city_db), GEOIP_ASN_DB=str(asn_db))


def record_from(app: Flask, client_ip: str, context: dict | None = None):
    """Record and commit one event from `client_ip`, then read it back from the database."""
    with app.app_context():
        record("custom_geoip_test", context, client_ip=client_ip, app="tests")
        db.session.commit()
        return events()[-1]


def test_an_event_from_a_listed_public_ip_carries_geo_and_asn(geo_app):
    event = record_from(geo_app, PUBLIC_IP)

    assert event.client_ip == PUBLIC_IP
    assert event.context["geo"] == LONDON_GEO
    assert event.context["asn"] == GOOGLE_ASN


@pytest.mark.parametrize("client_ip", ["10.0.0.1", "127.0.0.1", "::1"])
def test_events_from_private_and_loopback_ips_get_no_geo_or_asn(geo_app, client_ip):
    event = record_from(geo_app, client_ip)

    assert event.client_ip == client_ip
    assert "geo" not in event.context and "asn" not in event.context


def test_geo_the_caller_supplied_is_kept(geo_app):
    supplied = {"continent": "EU", "country": "FR", "lat": 48.9, "long": 2.3, "city": "Paris"}

    event = record_from(geo_app, PUBLIC_IP, {"geo": supplied})

    assert event.context["geo"] == supplied
    assert event.context["asn"] == GOOGLE_ASN


def test_a_login_through_a_trusted_proxy_is_located_by_the_forwarded_address(
        make_app, city_db, asn_db, admin):
    proxied = make_app(TRUSTED_PROXIES=1, GEOIP_CITY_DB=str(city_db), GEOIP_ASN_DB=str(asn_db))

    response = login(proxied.test_client(), "admin", ADMIN_PASSWORD,
                     headers={"X-Forwarded-For": PUBLIC_IP})

    assert response.status_code == 302
    with proxied.app_context():
        (event,) = events("login")
        assert event.client_ip == PUBLIC_IP
        assert event.context["geo"] == LONDON_GEO
        assert event.context["asn"] == GOOGLE_ASN


def test_without_trusted_proxies_the_forwarded_address_is_ignored(geo_app, admin):
    login(geo_app.test_client(), "admin", ADMIN_PASSWORD, headers={"X-Forwarded-For": PUBLIC_IP})

    with geo_app.app_context():
        (event,) = events("login")
        assert event.client_ip == "127.0.0.1"
        assert "geo" not in event.context and "asn" not in event.context


def test_enrichment_follows_the_file_as_it_appears_breaks_and_changes(make_app, tmp_path):
    path = tmp_path / "GeoLite2-City.mmdb"
    geo_app = make_app(GEOIP_CITY_DB=str(path))
    clock = ManualClock()
    init_geoip(geo_app, clock)

    assert "geo" not in record_from(geo_app, PUBLIC_IP).context

    write_corrupt_db(path)
    clock.advance()
    assert "geo" not in record_from(geo_app, PUBLIC_IP).context

    write_city_db(path, {"81.2.69.0/24": LONDON})
    clock.advance()
    assert record_from(geo_app, PUBLIC_IP).context["geo"]["city"] == "London"

    write_city_db(path, {"81.2.69.0/24": City("Paris", country="FR")})
    clock.advance()
    assert record_from(geo_app, PUBLIC_IP).context["geo"]["city"] == "Paris"

    path.unlink()
    clock.advance()
    assert "geo" not in record_from(geo_app, PUBLIC_IP).context
    with geo_app.app_context():
        assert len(events("custom_geoip_test")) == 5


def test_recording_events_looks_at_the_files_at_most_once_a_second(geo_app, city_db,
                                                                   monkeypatch):
    clock = ManualClock()
    init_geoip(geo_app, clock)
    stats = count_stats(monkeypatch, city_db)
    for _ in range(20):
        record_from(geo_app, PUBLIC_IP)
    assert len(stats) == 1

    clock.advance()
    record_from(geo_app, PUBLIC_IP)
    assert len(stats) == 2


def test_the_settings_page_says_what_each_file_is(make_app, tmp_path, admin):
    broken = write_corrupt_db(tmp_path / "GeoLite2-City.mmdb")
    missing = tmp_path / "GeoLite2-ASN.mmdb"
    client = make_app(GEOIP_CITY_DB=str(broken), GEOIP_ASN_DB=str(missing)).test_client()
    login(client, "admin", ADMIN_PASSWORD)

    page = client.get("/settings/").text

    assert (f'<dd class="col-sm-8 text-danger" id="geoip-city-status">'
            f"off: {broken} is not a MaxMind database</dd>") in page
    assert f'id="geoip-asn-status">off: {missing} not found</dd>' in page


def test_the_settings_page_shows_loaded_files_and_unconfigured_ones(make_app, city_db, admin):
    client = make_app(GEOIP_CITY_DB=str(city_db)).test_client()
    login(client, "admin", ADMIN_PASSWORD)

    page = client.get("/settings/").text

    assert (f'<dd class="col-sm-8" id="geoip-city-status">'
            f"loaded {city_db} (GeoLite2-City, built ") in page
    assert "off: not configured (HERALD_GEOIP_ASN_DB)" in page


def test_a_default_installation_reports_geoip_as_not_configured(admin_client):
    page = admin_client.get("/settings/").text

    assert "off: not configured (HERALD_GEOIP_CITY_DB)" in page
    assert "off: not configured (HERALD_GEOIP_ASN_DB)" in page
