"""The demo generator: a pure, seeded function from a plan and a directory to event rows that
look exactly like the ones record() writes."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from webapp.demo.cities import ASNS, CITIES, CITIES_BY_NAME
from webapp.demo.generator import generate
from webapp.demo.people import BILLING_SERVICE, PEOPLE
from webapp.demo.world import DemoDirectory, DemoGroup, DemoPlan, DemoUser
from webapp.events.request_context import ANONYMOUS_USER
from webapp.events.sanitize import MASK, cleanse
from webapp.events.serialize import DEFAULT_BRAND
from webapp.models import EventAction

UNTIL = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
RETENTION = timedelta(days=365)
ROW_KEYS = {"user", "action", "app", "context", "client_ip", "created", "expires", "brand",
            "username", "user_pk", "model_app", "model_name", "model_pk", "country", "city",
            "request_id", "email", "asn", "message"}
HTTP_REQUEST_KEYS = {"path", "method", "args", "user_agent", "request_id"}


def directory() -> DemoDirectory:
    """The demo people as the loader would hand them over, with made-up primary keys."""
    users = tuple(
        DemoUser(person, pk, {"pk": pk, "username": person.username, "email": person.email},
                 {"pk": pk, "app": "herald", "name": person.username, "model_name": "user"})
        for pk, person in enumerate((*PEOPLE, BILLING_SERVICE), start=10))
    groups = tuple(DemoGroup(f"0000000{n}-0000-4000-8000-000000000000",
                             {"pk": f"0000000{n}-0000-4000-8000-000000000000", "app": "herald",
                              "name": name, "model_name": "group"})
                   for n, name in enumerate(("engineering", "support")))
    return DemoDirectory(users[:-1], users[-1], groups)


def make(count: int = 4000, *, seed: int = 7, days: int = 30) -> list[dict]:
    return list(generate(DemoPlan(count, days, UNTIL, seed, RETENTION), directory()))


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return make(20_000)


def as_json(rows: list[dict]) -> str:
    return json.dumps(rows, default=str, sort_keys=True)


@pytest.mark.parametrize(("count", "days"), [(1, 1), (7, 30), (999, 2), (4000, 30)])
def test_it_makes_exactly_the_number_of_events_asked_for(count, days):
    assert len(make(count, days=days)) == count


def test_the_same_seed_gives_byte_identical_events():
    assert as_json(make(seed=11)) == as_json(make(seed=11))


def test_another_seed_gives_other_events():
    assert as_json(make(seed=11)) != as_json(make(seed=12))


def test_every_event_happens_inside_the_window_and_expires_after_the_retention(rows):
    start = UNTIL - timedelta(days=30)
    for row in rows:
        assert start <= row["created"] <= UNTIL
        assert row["created"].tzinfo is not None
        assert row["expires"] == row["created"] + RETENTION


def test_every_event_has_the_shape_record_gives_it(rows):
    people = {user.pk: user.reference for user in (*directory().people, directory().service)}
    for row in rows:
        assert set(row) == ROW_KEYS
        assert EventAction.normalise(row["action"]) == row["action"]
        assert row["brand"] == DEFAULT_BRAND
        user, context = row["user"], row["context"]
        if user.get("is_anonymous"):
            assert user == ANONYMOUS_USER
            assert row["user_pk"] is None
            assert row["username"] == context.get("username", "AnonymousUser")
        else:
            assert user == people[user["pk"]]
            assert (row["username"], row["user_pk"]) == (user["username"], user["pk"])
        assert set(context["http_request"]) == HTTP_REQUEST_KEYS
        assert len(context["http_request"]["request_id"]) == 32
        assert row["request_id"] == context["http_request"]["request_id"]
        assert row["country"] == context.get("geo", {}).get("country")
        model = context.get("model", {})
        assert (row["model_name"], row["model_pk"]) == (
            model.get("model_name"), None if model.get("pk") is None else str(model["pk"]))


def test_the_apps_are_the_ones_that_record_such_events(rows):
    apps = defaultdict(set)
    for row in rows:
        apps[row["action"]].add(row["app"])
    assert apps["login"] == apps["login_failed"] == apps["logout"] == {"webapp.views.auth"}
    assert apps["model_updated"] == {"herald.audit"}
    assert apps["system_exception"] == apps["suspicious_request"] == {"herald.errors"}
    assert {app for action, found in apps.items() if action.startswith("custom_")
            for app in found} == {"acme.billing"}


def test_public_addresses_carry_geo_and_asn_from_the_city_table_and_private_ones_none(rows):
    for row in rows:
        address = ipaddress.ip_address(row["client_ip"])
        context = row["context"]
        if not address.is_global:
            assert "geo" not in context and "asn" not in context
            continue
        city = CITIES_BY_NAME[context["geo"]["city"]]
        assert context["geo"] == {"continent": city.continent, "country": city.country,
                                  "lat": city.lat, "long": city.long, "city": city.name}
        assert context["asn"] == {"asn": city.asn, "as_org": ASNS[city.asn],
                                  "network": city.network}
        assert address in ipaddress.ip_network(city.network)
    assert sum("geo" in row["context"] for row in rows) > 0.8 * len(rows)


def test_the_mix_has_every_kind_of_event_a_newcomer_should_see(rows):
    actions = Counter(row["action"] for row in rows)
    assert actions["login"] == max(actions.values())
    for action in ("login_failed", "logout", "password_set", "suspicious_request",
                   "system_exception", "model_created", "model_updated", "model_deleted"):
        assert actions[action] > 0, action
    assert 0 < actions["system_exception"] < 0.01 * len(rows)
    assert any(action.startswith("custom_") for action in actions)


def test_failed_logins_are_anonymous_and_name_the_username_that_was_tried(rows):
    failed = [row for row in rows if row["action"] == "login_failed"]
    assert failed
    for row in failed:
        assert row["user"] == ANONYMOUS_USER
        assert row["username"] == row["context"]["username"]


def test_credential_stuffing_comes_in_bursts_from_one_address_trying_many_usernames(rows):
    by_address = defaultdict(list)
    for row in rows:
        if row["action"] == "login_failed":
            by_address[row["client_ip"]].append(row)
    bursts = [burst for failures in by_address.values() for burst in within_minutes(failures, 5)
              if len(burst) >= 15]
    assert len(bursts) >= 5
    for burst in bursts:
        assert len({row["username"] for row in burst}) >= 5


def within_minutes(rows: list[dict], minutes: int) -> list[list[dict]]:
    """The rows split wherever more than `minutes` pass without one."""
    groups: list[list[dict]] = []
    for row in sorted(rows, key=lambda row: row["created"]):
        if groups and row["created"] - groups[-1][-1]["created"] <= timedelta(minutes=minutes):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def test_model_changes_point_at_a_model_and_carry_diffs_shaped_like_the_audit_trail(rows):
    pks = {user.pk for user in directory().people}
    emails = {user.pk: user.email for user in directory().people}
    changes = [row for row in rows if row["action"].startswith("model_")]
    assert {row["action"] for row in changes} == {"model_created", "model_updated",
                                                  "model_deleted"}
    for row in changes:
        context = row["context"]
        assert set(context["model"]) == {"pk", "app", "name", "model_name"}
        if row["action"] == "model_deleted":
            assert "diff" not in context
            continue
        assert context["diff"]
        for field, change in context["diff"].items():
            if field == "users":
                (verb, members), = change.items()
                assert verb in ("add", "remove") and set(members) <= pks
            elif change != MASK:
                assert set(change) == {"previous_value", "new_value"}
                if row["action"] == "model_created":
                    assert change["previous_value"] is None
                else:
                    assert change["previous_value"] != change["new_value"]
        if set(context["diff"]) == {"email"}:
            assert context["diff"]["email"]["new_value"] == emails[context["model"]["pk"]]


def test_an_email_change_a_membership_and_a_retention_change_are_among_them(rows):
    diffs = [row["context"]["diff"] for row in rows if row["action"] == "model_updated"]
    assert any(set(diff) == {"email"} for diff in diffs)
    assert any(set(diff) == {"users"} and "add" in diff["users"] for diff in diffs)
    assert any(set(diff) == {"event_retention"} for diff in diffs)


def test_nothing_secret_is_left_unmasked(rows):
    masked_passwords = 0
    for row in rows:
        assert cleanse(row["context"]) == row["context"]
        diff = row["context"].get("diff", {})
        masked_passwords += diff.get("password_hash") == MASK
    assert masked_passwords > 0


def test_system_exceptions_carry_a_message_and_a_traceback(rows):
    for row in rows:
        if row["action"] == "system_exception":
            assert row["context"]["message"]
            assert row["context"]["exception"].startswith("Traceback (most recent call last)")


def test_people_sign_in_by_day_far_more_than_by_night(rows):
    cities = {user.pk: user.person.city for user in directory().people}
    local_hours = Counter(
        (row["created"] + timedelta(hours=cities[row["user_pk"]].utc_offset)).hour
        for row in rows if row["action"] == "login")
    day = sum(local_hours[hour] for hour in range(9, 17))
    night = sum(local_hours[hour] for hour in range(0, 8))
    assert day > 5 * night


def test_the_city_table_places_every_city_in_a_public_network_of_a_known_asn():
    assert len(CITIES) >= 40
    assert len(CITIES_BY_NAME) == len(CITIES)
    for city in CITIES:
        assert city.continent in {"AF", "AS", "EU", "NA", "OC", "SA"}
        assert len(city.country) == 2 and city.country.isupper()
        assert -90 <= city.lat <= 90 and -180 <= city.long <= 180
        assert ipaddress.ip_network(city.network).is_global
        assert city.asn in ASNS


def test_every_demo_person_lives_in_a_city_of_the_table():
    assert len(PEOPLE) >= 30
    assert len({person.username for person in PEOPLE}) == len(PEOPLE)
    for person in (*PEOPLE, BILLING_SERVICE):
        assert person.city_name in CITIES_BY_NAME
