"""Things that happen in the demo world (a sign-in, an attack, an administrator's change), each
turned into the event rows record() would have written for it.

Rows are dicts for `sa.insert(Event)` without `event_uuid`, which the loader adds, so that
generation stays a pure function of the seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from webapp.demo import content
from webapp.demo.changes import ChangeMaker
from webapp.demo.cities import CITIES, HOSTING_CITIES, City
from webapp.demo.world import DemoDirectory, DemoPlan, DemoUser
from webapp.events.columns import copied_columns
from webapp.events.request_context import ANONYMOUS_USER
from webapp.events.serialize import DEFAULT_BRAND
from webapp.models import EventAction

AUTH_APP = "webapp.views.auth"  # what record() names the sign-in views' events
ERRORS_APP = "herald.errors"
AUDIT_APP = "herald.audit"
INGEST_PATH = "/api/v3/events/events/"
ANONYMOUS: dict[str, Any] = dict(ANONYMOUS_USER)
BRAND: dict[str, Any] = dict(DEFAULT_BRAND)
HOME_CITIES: tuple[City, ...] = tuple(city for city in CITIES if not city.hosting)

#: How busy people are at each local hour (0-23): quiet nights, a morning and afternoon peak.
RHYTHM: tuple[float, ...] = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.40, 0.80, 1.00, 1.00, 0.90,
    0.70, 0.85, 1.00, 0.95, 0.85, 0.65, 0.45, 0.35, 0.30, 0.25, 0.15, 0.08,
)
#: An address and the city it is in (None for office and VPN addresses, which have no geo).
Origin = tuple[str, City | None]
Row = dict[str, Any]


@dataclass(frozen=True)
class Traits:
    """What stays the same about one user through the demo: where and how they sign in."""

    user: DemoUser
    homes: tuple[Origin, ...]
    agent: str
    activity: float


class Scene:
    """The demo world: who is around at which hour, and what each kind of happening records."""

    def __init__(self, rng: random.Random, plan: DemoPlan, directory: DemoDirectory) -> None:
        self.rng = rng
        self.until = plan.until
        self.retention = plan.retention
        self.people = [self._traits(user) for user in directory.people]
        self.admins = [traits for traits in self.people if traits.user.person.admin]
        self.service = self._traits(directory.service, agent=content.BILLING_AGENT)
        self.changes = ChangeMaker(rng, directory.people, directory.groups)
        self._people_by_hour = [_cumulative(self.people, hour) for hour in range(24)]
        self._admins_by_hour = [_cumulative(self.admins, hour) for hour in range(24)]
        mix: tuple[tuple[float, Callable[[datetime, int], list[Row]]], ...] = (
            (0.775, self.session), (0.04, self.scan), (0.004, self.credential_stuffing),
            (0.07, self.admin_change), (0.095, self.billing), (0.013, self.suspicious),
            (0.003, self.exception),
        )
        self._mix = [happening for _, happening in mix]
        self._mix_weights = list(accumulate(weight for weight, _ in mix))

    def activity(self, utc_hour: int) -> float:
        """How many people are about at this UTC hour, relative to the other hours."""
        return self._people_by_hour[utc_hour][-1]

    def happen(self, when: datetime, utc_hour: int) -> list[Row]:
        happening = self.rng.choices(self._mix, cum_weights=self._mix_weights)[0]
        return happening(when, utc_hour)

    # --- what happens ---------------------------------------------------------------------

    def session(self, when: datetime, utc_hour: int) -> list[Row]:
        """Someone signs in (now and then after a typo), maybe changes their password, and
        maybe signs out again."""
        who = self._someone(self.people, self._people_by_hour, utc_hour)
        origin = self._origin(who)
        rows = []
        if self.rng.random() < 0.08:
            tried = who.user.email if self.rng.random() < 0.3 else who.user.person.username
            rows.append(self._failed_login(tried, origin, who.agent, when))
            when = self._later(when, 5, 60)
        rows.append(self._web(EventAction.LOGIN, AUTH_APP, who, origin, when, "/auth/login",
                              {"auth_method": "password", "auth_method_args": {}}))
        if self.rng.random() < 0.02:
            rows.append(self._web(EventAction.PASSWORD_SET, AUTH_APP, who, origin,
                                  self._later(when, 60, 900), "/auth/password",
                                  {"method": "self_service"}))
        if self.rng.random() < 0.45:
            rows.append(self._web(EventAction.LOGOUT, AUTH_APP, who, origin,
                                  self._later(when, 300, 8 * 3600), "/auth/logout", {}))
        return rows

    def scan(self, when: datetime, utc_hour: int) -> list[Row]:
        """A lone failed sign-in with a username someone guessed."""
        city = self.rng.choice(CITIES)
        origin = (city.random_ip(self.rng), city)
        tried = self.rng.choice(content.GUESSED_USERNAMES)
        return [self._failed_login(tried, origin, self.rng.choice(content.ATTACK_TOOLS), when)]

    def credential_stuffing(self, when: datetime, utc_hour: int) -> list[Row]:
        """A burst of failed sign-ins from one address, a new username every second or two."""
        city = self.rng.choice(HOSTING_CITIES if self.rng.random() < 0.7 else CITIES)
        origin = (city.random_ip(self.rng), city)
        agent = self.rng.choice(content.ATTACK_TOOLS)
        names = [*content.GUESSED_USERNAMES, *(t.user.person.username for t in self.people),
                 *(t.user.email for t in self.people)]
        rows = []
        for _ in range(self.rng.randint(15, 80)):
            rows.append(self._failed_login(self.rng.choice(names), origin, agent, when))
            when = self._later(when, 0.2, 3)
        return rows

    def admin_change(self, when: datetime, utc_hour: int) -> list[Row]:
        admin = self._someone(self.admins, self._admins_by_hour, utc_hour)
        change = self.changes.make(when, admin.user.pk)
        return [self._web(change.action, AUDIT_APP, admin, self._origin(admin), when,
                          change.path, change.context, change.method)]

    def billing(self, when: datetime, utc_hour: int) -> list[Row]:
        """The external billing app reports something through the events API."""
        action, template = self.rng.choice(content.BILLING_ACTIONS)
        payload: dict[str, Any] = {
            "invoice": f"INV-{self.rng.randint(10_000, 99_999)}",
            "customer": self.rng.choice(content.CUSTOMERS),
            "amount": round(self.rng.uniform(19, 4_999), 2),
            "currency": self.rng.choice(content.CURRENCIES),
        }
        payload["message"] = template.format(**payload)
        return [self._web(EventAction.normalise(action), content.BILLING_APP, self.service,
                          self.rng.choice(self.service.homes), when, INGEST_PATH, payload)]

    def suspicious(self, when: datetime, utc_hour: int) -> list[Row]:
        """A form posted with a missing or stale CSRF token."""
        context = {"reason": "csrf", "message": self.rng.choice(content.CSRF_MESSAGES)}
        path = self.rng.choice(content.CSRF_FORM_PATHS)
        if self.rng.random() < 0.3:
            who = self.rng.choice(self.people)
            return [self._web(EventAction.SUSPICIOUS_REQUEST, ERRORS_APP, who,
                              self._origin(who), when, path, context)]
        city = self.rng.choice(CITIES)
        origin = (city.random_ip(self.rng), city)
        agent = self.rng.choice(content.BROWSERS)
        context["http_request"] = self._request(path, "POST", agent)
        return [self._row(EventAction.SUSPICIOUS_REQUEST, ERRORS_APP, ANONYMOUS, context,
                          origin, when)]

    def exception(self, when: datetime, utc_hour: int) -> list[Row]:
        """An unhandled error on an administrator's page: message and traceback."""
        admin = self._someone(self.admins, self._admins_by_hour, utc_hour)
        message, traceback, path, method, args = self.rng.choice(content.EXCEPTIONS)
        return [self._web(EventAction.SYSTEM_EXCEPTION, ERRORS_APP, admin, self._origin(admin),
                          when, path, {"message": message, "exception": traceback}, method,
                          dict(args))]

    # --- how it is recorded ---------------------------------------------------------------

    def _failed_login(self, tried: str, origin: Origin, agent: str, when: datetime) -> Row:
        context = {"username": tried, "http_request": self._request("/auth/login", "POST", agent)}
        return self._row(EventAction.LOGIN_FAILED, AUTH_APP, ANONYMOUS, context, origin, when)

    def _web(self, action: str, app: str, who: Traits, origin: Origin, when: datetime,
             path: str, context: dict[str, Any], method: str = "POST",
             args: dict[str, Any] | None = None) -> Row:
        """An event recorded inside a signed-in user's request."""
        context = {**context, "http_request": self._request(path, method, who.agent, args)}
        return self._row(action, app, who.user.reference, context, origin, when)

    def _request(self, path: str, method: str, agent: str,
                 args: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"path": path, "method": method, "args": args or {}, "user_agent": agent,
                "request_id": f"{self.rng.getrandbits(128):032x}"}

    def _row(self, action: str, app: str, user: dict[str, Any], context: dict[str, Any],
             origin: Origin, when: datetime) -> Row:
        address, city = origin
        if city is not None:
            context["geo"] = city.geo
            context["asn"] = city.as_info
        return {"user": user, "action": action, "app": app, "context": context,
                "client_ip": address, "created": when, "expires": when + self.retention,
                "brand": BRAND, **copied_columns(user, context)}

    # --- who, where and when --------------------------------------------------------------

    def _traits(self, user: DemoUser, agent: str | None = None) -> Traits:
        city = user.person.city
        homes = tuple((city.random_ip(self.rng), city) for _ in range(2))
        return Traits(user, homes, agent or self.rng.choice(content.BROWSERS),
                      self.rng.uniform(0.3, 2.0))

    def _someone(self, group: Sequence[Traits], by_hour: list[list[float]],
                 utc_hour: int) -> Traits:
        return self.rng.choices(group, cum_weights=by_hour[utc_hour])[0]

    def _origin(self, who: Traits) -> Origin:
        """Mostly one of their home addresses; sometimes the office VPN or a trip abroad."""
        roll = self.rng.random()
        if roll < 0.86:
            return who.homes[0] if roll < 0.6 else who.homes[1]
        if roll < 0.94:
            return f"10.20.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}", None
        city = self.rng.choice(HOME_CITIES)
        return city.random_ip(self.rng), city

    def _later(self, when: datetime, low: float, high: float) -> datetime:
        """Some seconds after `when`, but never after the end of the window."""
        seconds = self.rng.uniform(low, high)
        room = (self.until - when).total_seconds()
        if seconds >= room:
            seconds = room * self.rng.random()
        return when + timedelta(seconds=seconds)


def _cumulative(group: Sequence[Traits], utc_hour: int) -> list[float]:
    """Cumulative weights of who is about at this UTC hour, by their local time."""
    return list(accumulate(
        traits.activity * RHYTHM[(utc_hour + traits.user.person.city.utc_offset) % 24]
        for traits in group))
