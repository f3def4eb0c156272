"""Event matcher policies: every configured criterion must match, and one at least is required.

Built on unsaved events and policies: matching is pure and needs no database.
"""

from __future__ import annotations

import pytest

from webapp.models import Event, EventMatcherPolicy
from webapp.policies import PolicyConfigError, validate_event_matcher
from webapp.policies.event_matcher import compile_event_matcher
from webapp.policies.facts import EventFacts


def event(action: str = "model_created", *, app: str = "herald.directory",
          client_ip: str | None = "203.0.113.7", model: tuple[str, str] | None = ("herald", "user"),
          ) -> EventFacts:
    model_app, model_name = model or (None, None)
    return EventFacts(Event(action=action, app=app, client_ip=client_ip, user={"pk": 1},
                            model_app=model_app, model_name=model_name))


def matches(facts: EventFacts, **criteria: str | None) -> bool:
    return compile_event_matcher(EventMatcherPolicy(name="m", **criteria))(facts, 1.0)


def test_each_criterion_alone_matches_its_own_value_only() -> None:
    facts = event()
    assert matches(facts, action="model_created")
    assert not matches(facts, action="model_deleted")
    assert matches(facts, app="herald.directory")
    assert not matches(facts, app="herald.events")
    assert matches(facts, model="herald.user")
    assert not matches(facts, model="herald.group")
    assert matches(facts, client_ip="203.0.113.7")
    assert not matches(facts, client_ip="203.0.113.8")


def test_every_configured_criterion_must_match() -> None:
    facts = event()
    assert matches(facts, action="model_created", app="herald.directory", model="herald.user",
                   client_ip="203.0.113.0/24")
    assert not matches(facts, action="model_created", app="herald.directory",
                       model="herald.group")
    assert not matches(facts, action="model_created", client_ip="198.51.100.0/24")


def test_blank_criteria_are_not_criteria() -> None:
    assert matches(event(), action="model_created", app="", model="", client_ip="")


@pytest.mark.parametrize(("network", "address", "expected"), [
    ("203.0.113.0/24", "203.0.113.200", True),
    ("203.0.113.0/24", "203.0.114.1", False),
    ("10.0.0.0/8", "10.255.255.255", True),
    ("0.0.0.0/0", "192.0.2.1", True),
    ("2001:db8::/32", "2001:db8:ffff::1", True),
    ("2001:db8::/32", "2001:db9::1", False),
    ("2001:db8::1", "2001:db8::1", True),
    ("::/0", "192.0.2.1", False),  # an IPv4 address is never inside an IPv6 network
    ("0.0.0.0/0", "2001:db8::1", False),
])
def test_client_ip_matches_an_address_or_a_cidr_network(network: str, address: str,
                                                        expected: bool) -> None:
    assert matches(event(client_ip=address), client_ip=network) is expected


@pytest.mark.parametrize("address", [None, "", "not-an-ip"])
def test_events_without_a_usable_client_ip_do_not_match_an_ip_criterion(address: str | None,
                                                                        ) -> None:
    assert not matches(event(client_ip=address), client_ip="0.0.0.0/0")


def test_a_stored_bad_network_never_matches_and_never_raises() -> None:
    assert not matches(event(), client_ip="10.0.0.0/33")


def test_a_model_criterion_needs_the_event_to_name_a_model() -> None:
    assert not matches(event(model=None), model="herald.user")


def test_a_matcher_without_criteria_matches_nothing() -> None:
    assert not matches(event())


def test_validation_requires_one_criterion() -> None:
    with pytest.raises(PolicyConfigError, match="at least one criterion"):
        validate_event_matcher()
    with pytest.raises(PolicyConfigError, match="at least one criterion"):
        validate_event_matcher(action="", client_ip="", app="", model="")
    validate_event_matcher(action="login")


@pytest.mark.parametrize("client_ip", ["10.0.0.0/33", "10.0.0.300", "example.com"])
def test_validation_refuses_an_unreadable_client_ip(client_ip: str) -> None:
    with pytest.raises(PolicyConfigError, match="CIDR"):
        validate_event_matcher(client_ip=client_ip)


def test_validation_accepts_addresses_and_networks_of_both_families() -> None:
    for client_ip in ("192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/32"):
        validate_event_matcher(client_ip=client_ip)


@pytest.mark.parametrize("model", ["user", "herald.", ".user"])
def test_validation_refuses_a_model_that_is_not_app_dot_model_name(model: str) -> None:
    with pytest.raises(PolicyConfigError, match="app.model_name"):
        validate_event_matcher(model=model)
