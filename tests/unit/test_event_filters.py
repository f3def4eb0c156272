"""Parsing the Logs filters from a query string: good values apply, bad ones are reported
against their own field and left out, never raised."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from webapp.events.filters import parse_filters
from webapp.events.ip_match import ipv4_prefixes


def parse(**args):
    pairs = [(key, item) for key, value in args.items()
             for item in (value if isinstance(value, list) else [value])]
    return parse_filters(MultiDict(pairs))


def test_several_actions_and_text_fields_become_one_filter():
    parsed = parse(action=["login", "login_failed", "login"], username="alice",
                   app="webapp.views.auth", model_name="user", model_pk="7", city="Berlin")
    assert parsed.errors == {}
    f = parsed.filter
    assert f.actions == ("login", "login_failed")
    assert (f.username, f.app, f.model_name, f.model_pk, f.city) == (
        "alice", "webapp.views.auth", "user", "7", "Berlin")
    assert f.query_args() == [("action", "login"), ("action", "login_failed"),
                              ("username", "alice"), ("app", "webapp.views.auth"),
                              ("model_name", "user"), ("model_pk", "7"), ("city", "Berlin")]


def test_an_unknown_action_is_reported_and_the_known_ones_still_apply():
    parsed = parse(action=["login", "logn"])
    assert "Unknown action “logn”" in parsed.errors["action"]
    assert parsed.filter.actions == ("login",)


def test_custom_actions_are_accepted_but_the_bare_prefix_is_not():
    assert parse(action="custom_deploy").filter.actions == ("custom_deploy",)
    assert "action" in parse(action="custom_").errors


@pytest.mark.parametrize("text, network", [
    ("203.0.113.5", "203.0.113.5/32"),
    ("10.1.2.3/16", "10.1.0.0/16"),
    ("2001:db8::1", "2001:db8::1/128"),
    ("2001:db8::/32", "2001:db8::/32"),
])
def test_client_ip_takes_an_address_or_a_cidr_network(text, network):
    parsed = parse(client_ip=text)
    assert parsed.errors == {}
    assert parsed.filter.client_ip == ipaddress.ip_network(network)
    assert parsed.filter.query_args() == [("client_ip", text)]


@pytest.mark.parametrize("text", ["10.0.0.0/33", "300.1.1.1", "10.0.0.0/8/8", "not an ip",
                                  "2001:db8::/129"])
def test_a_bad_cidr_gets_a_message_under_its_field(text):
    parsed = parse(client_ip=text, username="alice")
    assert "CIDR" in parsed.errors["client_ip"]
    assert parsed.filter.client_ip is None
    assert parsed.filter.username == "alice"
    assert parsed.typed["client_ip"] == text  # shown back to the user as typed


def test_ipv4_networks_become_text_prefixes_that_cover_exactly_the_network():
    assert ipv4_prefixes(ipaddress.ip_network("10.1.0.0/16")) == ["10.1."]
    assert ipv4_prefixes(ipaddress.ip_network("10.0.16.0/20")) == [
        f"10.0.{third}." for third in range(16, 32)]
    assert ipv4_prefixes(ipaddress.ip_network("192.0.2.128/25")) == [
        f"192.0.2.{last}." for last in range(128, 256)]


def test_a_preset_period_is_relative_to_now():
    parsed = parse(period="24h")
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert parsed.filter.window(now) == (now - timedelta(hours=24), None)


def test_a_custom_range_reads_dates_and_times_as_utc_and_a_date_until_means_its_whole_day():
    parsed = parse(period="custom", since="2026-11-01T08:30", until="2026-11-02")
    assert parsed.errors == {}
    assert parsed.filter.window() == (datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
                                      datetime(2026, 11, 3, tzinfo=UTC))


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "yesterday", "2026-11-01T25:00"])
def test_an_impossible_date_is_reported(field, text):
    parsed = parse(**{field: text})
    assert "not a valid date" in parsed.errors[field]
    assert parsed.filter.window() == (None, None)


def test_a_range_that_runs_backwards_is_reported_on_until():
    parsed = parse(since="2026-11-05", until="2026-11-01")
    assert "later than" in parsed.errors["until"]
    assert parsed.filter.until is None and parsed.filter.since is not None


def test_a_preset_period_wins_over_stale_custom_dates():
    parsed = parse(period="7d", since="2026-11-01")
    assert parsed.filter.since is None
    assert ("since", "2026-11-01") not in parsed.filter.query_args()


@pytest.mark.parametrize("args, field", [({"period": "2w"}, "period"),
                                         ({"country": "Germany"}, "country")])
def test_other_bad_values_are_reported_against_their_field(args, field):
    assert field in parse(**args).errors


def test_country_codes_are_case_insensitive():
    assert parse(country="nz").filter.country == "NZ"


def test_an_empty_query_string_is_no_filter():
    parsed = parse()
    assert not parsed.filter.active and parsed.errors == {}
    assert parsed.filter.conditions() == []
