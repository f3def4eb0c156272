"""Matching one event against 100 enabled rules, each with one event-matcher binding.

- Figure: microseconds per event of `RuleSet.matching(event)` (what the outbox matcher calls
  per event), the RuleSet loaded once from a fresh SQLite file, over a mix of events: logins,
  failures, model changes, IPv4 and IPv6 clients. Target: 1 ms (1,000 µs) per event.
- Raw baseline: a bare Python loop over 100 dicts of the same criteria, comparing each with
  the event's fields (no CIDR, no bindings, no rule objects): the floor any matcher has.

The rules live in memory once loaded, so no database takes part in the figure: it runs once,
on a scratch SQLite file, whatever HERALD_BENCH_DATABASES says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from bench import NO_DATABASE, Measurement, at_most, table
from bench.datasets import scratch_app
from webapp.core.extensions import db
from webapp.models import Event, EventMatcherPolicy, NotificationRule, PolicyBinding
from webapp.policies import RuleSet

RULES = 100
ROUNDS = 200
TARGET = at_most(1000)
ACTIONS = ("login", "login_failed", "logout", "model_created", "model_updated",
           "model_deleted", "password_set", "configuration_error", "policy_exception")
CLIENTS = ("203.0.113.7", "198.51.100.20", "10.1.2.3", "2001:db8::1", None)


def run() -> list[Measurement]:
    logging.disable(logging.INFO)  # the rules' audit events are not what this bench shows
    try:
        return _measure()
    finally:
        logging.disable(logging.NOTSET)


def _measure() -> list[Measurement]:
    with scratch_app("sqlite") as app, app.app_context():
        criteria = [_criteria(number) for number in range(RULES)]
        _store_rules(criteria)
        events = [_event(number) for number in range(50)]
        engine_us = _per_event_us(RuleSet.load().matching, events)
        raw_us = _per_event_us(_raw_matcher(criteria), events)
    return [Measurement(NO_DATABASE, f"policies: match one event against {RULES} rules",
                        engine_us, "µs", TARGET, raw_us, "Python loop of dict comparisons")]


def _criteria(number: int) -> dict[str, Any]:
    """Mostly actions, some with an app, a model or a client network too, like real rules."""
    found: dict[str, Any] = {"action": ACTIONS[number % len(ACTIONS)]}
    if number % 4 == 1:
        found["app"] = "herald.directory"
    if number % 5 == 2:
        found["model"] = "herald.user"
    if number % 7 == 3:
        found["client_ip"] = ("203.0.113.0/24", "2001:db8::/32", "10.0.0.0/8")[number % 3]
    return found


def _store_rules(criteria: list[dict[str, Any]]) -> None:
    for number, fields in enumerate(criteria):
        policy = EventMatcherPolicy(name=f"bench-match-{number}", **fields)
        rule = NotificationRule(name=f"bench-rule-{number}")
        rule.bindings.append(PolicyBinding(policy=policy))
        db.session.add(rule)
    db.session.commit()


def _event(number: int) -> Event:
    model = ("herald", "user") if number % 3 == 0 else (None, None)
    return Event(action=ACTIONS[number % len(ACTIONS)], app="herald.directory",
                 client_ip=CLIENTS[number % len(CLIENTS)], user={"pk": number, "username": "u"},
                 context={}, model_app=model[0], model_name=model[1])


def _raw_matcher(criteria: list[dict[str, Any]]) -> Callable[[Event], list[dict[str, Any]]]:
    """The baseline: plain dict comparisons, with the event's fields prepared once."""

    def matching(event: Event) -> list[dict[str, Any]]:
        fields = {"action": event.action, "app": event.app,
                  "model": f"{event.model_app}.{event.model_name}",
                  "client_ip": event.client_ip}
        return [rule for rule in criteria
                if all(fields.get(key) == value for key, value in rule.items())]

    return matching


def _per_event_us(matching: Callable[[Event], list[Any]], events: list[Event]) -> float:
    """The best of five runs, so a neighbour's burst of CPU does not count against us."""
    best = float("inf")
    for _ in range(5):
        started = perf_counter()
        for _ in range(ROUNDS // 5):
            for event in events:
                matching(event)
        elapsed = perf_counter() - started
        best = min(best, elapsed / (ROUNDS // 5 * len(events)))
    return best * 1e6


if __name__ == "__main__":
    print(table(run()))
