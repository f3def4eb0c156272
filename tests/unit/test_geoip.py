"""GeoIP and ASN lookups on real (small) MaxMind files: shapes, filtering, state and reloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mmdb import (
    GOOGLE,
    LONDON,
    Asn,
    City,
    ManualClock,
    count_stats,
    write_asn_db,
    write_city_db,
    write_corrupt_db,
)
from webapp.events.geoip import GeoIP

# Addresses that must never be enriched; the test files list them all, so only the filter
# keeps them out.
NOT_PUBLIC = {
    "10.0.0.1": "10.0.0.0/8",
    "127.0.0.1": "127.0.0.0/8",
    "::1": "::1/128",
    "169.254.1.1": "169.254.0.0/16",
    "fe80::1": "fe80::/10",
    "192.0.2.1": "192.0.2.0/24",
    "2001:db8::1": "2001:db8::/32",
    "240.0.0.1": "240.0.0.0/4",
    "100.64.0.1": "100.64.0.0/10",
    "224.0.0.1": "224.0.0.0/4",
    "::ffff:10.0.0.1": "10.0.0.0/8",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    networks = {"81.2.69.0/24": LONDON, "2a02:8010::/32": LONDON,
                "89.160.20.0/24": City(country="SE", continent="EU", latitude=59.3,
                                       longitude=18.0)}
    return write_city_db(tmp_path / "GeoLite2-City.mmdb",
                         {**networks, **{net: LONDON for net in NOT_PUBLIC.values()}})


@pytest.fixture
def asn_db(tmp_path: Path) -> Path:
    networks = {"81.2.69.0/24": GOOGLE, "2a02:8010::/32": Asn(8468, "Entanet")}
    return write_asn_db(tmp_path / "GeoLite2-ASN.mmdb",
                        {**networks, **{net: GOOGLE for net in NOT_PUBLIC.values()}})


def geoip(clock: ManualClock, city: object = None, asn: object = None) -> GeoIP:
    return GeoIP({"GEOIP_CITY_DB": city, "GEOIP_ASN_DB": asn}, clock)


def test_a_listed_public_address_gets_geo_and_asn_in_authentiks_shape(clock, city_db, asn_db):
    assert geoip(clock, city_db, asn_db).context_for("81.2.69.160") == {
        "geo": {"continent": "EU", "country": "GB", "lat": 51.5142, "long": -0.0931,
                "city": "London"},
        "asn": {"asn": 15169, "as_org": "Google LLC", "network": "81.2.69.0/24"},
    }


def test_the_city_is_empty_when_the_database_only_knows_the_country(clock, city_db):
    assert geoip(clock, city_db).context_for("89.160.20.1") == {
        "geo": {"continent": "EU", "country": "SE", "lat": 59.3, "long": 18.0, "city": ""}}


@pytest.mark.parametrize("address", ["2a02:8010::1", "2A02:8010:0:0::1"])
def test_ipv6_clients_are_looked_up_too(clock, city_db, asn_db, address):
    found = geoip(clock, city_db, asn_db).context_for(address)
    assert found["geo"]["city"] == "London"
    assert found["asn"] == {"asn": 8468, "as_org": "Entanet", "network": "2a02:8010::/32"}


def test_an_ipv4_mapped_ipv6_address_is_looked_up_as_ipv4(clock, city_db, asn_db):
    found = geoip(clock, city_db, asn_db).context_for("::ffff:81.2.69.160")
    assert found["asn"]["network"] == "81.2.69.0/24"


@pytest.mark.parametrize("address", [*NOT_PUBLIC, None, "", "not-an-ip", "999.1.1.1"])
def test_private_loopback_link_local_reserved_and_unknown_addresses_get_nothing(
        clock, city_db, asn_db, address):
    assert geoip(clock, city_db, asn_db).context_for(address) == {}


def test_a_public_address_the_files_do_not_list_gets_nothing(clock, city_db, asn_db):
    assert geoip(clock, city_db, asn_db).context_for("8.8.4.4") == {}


def test_each_file_works_on_its_own(clock, city_db, asn_db):
    assert geoip(clock, asn=asn_db).context_for("81.2.69.160").keys() == {"asn"}
    assert geoip(clock, city=city_db).context_for("81.2.69.160").keys() == {"geo"}


def test_an_ipv6_client_and_an_ipv4_only_file_give_nothing_and_keep_the_file_on(clock, tmp_path):
    path = write_asn_db(tmp_path / "v4.mmdb", {"81.2.69.0/24": GOOGLE}, ip_version=4)
    lookups = geoip(clock, asn=path)

    assert lookups.context_for("2a02:8010::1") == {}
    assert lookups.context_for("81.2.69.160")["asn"]["asn"] == 15169
    assert lookups.status()["ASN"].problem is False


def test_the_status_names_the_file_its_type_and_build_date(clock, city_db, asn_db):
    status = geoip(clock, city_db, asn_db).status()

    assert str(status["City"]).startswith(f"loaded {city_db} (GeoLite2-City, built 20")
    assert str(status["ASN"]).startswith(f"loaded {asn_db} (GeoLite2-ASN, built 20")
    assert not status["City"].problem and not status["ASN"].problem


def test_unconfigured_files_are_off_without_being_a_problem(clock):
    status = geoip(clock).status()

    assert str(status["City"]) == "off: not configured (HERALD_GEOIP_CITY_DB)"
    assert str(status["ASN"]) == "off: not configured (HERALD_GEOIP_ASN_DB)"
    assert not status["City"].problem
    assert geoip(clock).context_for("81.2.69.160") == {}


def test_a_missing_file_is_a_problem_and_enriches_nothing(clock, tmp_path):
    lookups = geoip(clock, city=tmp_path / "nowhere.mmdb")

    assert lookups.context_for("81.2.69.160") == {}
    assert lookups.status()["City"].text == f"off: {tmp_path / 'nowhere.mmdb'} not found"
    assert lookups.status()["City"].problem


def test_a_path_the_environment_decoded_as_a_number_is_still_a_path(clock, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_city_db("7", {"81.2.69.0/24": LONDON})

    assert geoip(clock, city=7).context_for("81.2.69.160")["geo"]["city"] == "London"


def test_random_bytes_are_not_a_maxmind_database(clock, tmp_path):
    path = write_corrupt_db(tmp_path / "GeoLite2-City.mmdb")
    lookups = geoip(clock, city=path)

    assert lookups.context_for("81.2.69.160") == {}
    assert lookups.status()["City"].text == f"off: {path} is not a MaxMind database"


def test_a_directory_cannot_be_read(clock, tmp_path):
    assert geoip(clock, city=tmp_path).status()["City"].text == (
        f"off: {tmp_path} cannot be read (is a directory)")


def test_an_asn_file_configured_as_the_city_file_is_refused(clock, city_db, asn_db):
    lookups = geoip(clock, city=asn_db, asn=city_db)

    assert lookups.context_for("81.2.69.160") == {}
    assert lookups.status()["City"].text == (
        f"off: {asn_db} is a GeoLite2-ASN database, not City")
    assert lookups.status()["ASN"].text == (
        f"off: {city_db} is a GeoLite2-City database, not ASN")


def test_a_damaged_search_tree_turns_the_file_off_until_it_changes(clock, asn_db):
    data = asn_db.read_bytes()
    tree_end = data.rfind(b"\xab\xcd\xefMaxMind.com")
    asn_db.write_bytes(b"\xff" * tree_end + data[tree_end:])
    lookups = geoip(clock, asn=asn_db)

    assert lookups.status()["ASN"].text.startswith("loaded ")  # the metadata is intact
    assert lookups.context_for("81.2.69.160") == {}
    assert lookups.status()["ASN"].text == f"off: {asn_db} is damaged (lookups fail)"

    write_asn_db(asn_db, {"81.2.69.0/24": GOOGLE})
    clock.advance()
    assert lookups.context_for("81.2.69.160")["asn"]["asn"] == 15169


def test_files_are_reloaded_as_they_appear_change_break_and_vanish(clock, tmp_path):
    path = tmp_path / "GeoLite2-City.mmdb"
    lookups = geoip(clock, city=path)
    assert lookups.context_for("81.2.69.160") == {}

    write_city_db(path, {"81.2.69.0/24": LONDON})
    clock.advance()
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "London"

    write_city_db(path, {"81.2.69.0/24": City("Paris", country="FR")})
    clock.advance()
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "Paris"

    write_corrupt_db(path)
    clock.advance()
    assert lookups.context_for("81.2.69.160") == {}
    assert lookups.status()["City"].problem

    path.unlink()
    clock.advance()
    assert lookups.status()["City"].text == f"off: {path} not found"


def test_the_disk_is_checked_at_most_once_a_second(clock, city_db, monkeypatch):
    stats = count_stats(monkeypatch, city_db)
    lookups = geoip(clock, city=city_db)
    for _ in range(50):
        lookups.context_for("81.2.69.160")
    assert len(stats) == 1

    write_city_db(city_db, {"81.2.69.0/24": City("Paris", country="FR")})
    stats.clear()
    clock.advance(0.5)
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "London"  # not looked yet
    clock.advance(0.5)
    assert lookups.context_for("81.2.69.160")["geo"]["city"] == "Paris"
    assert len(stats) == 1
