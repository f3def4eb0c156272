"""What the demo generator is given: the plan (how many events, when, which seed) and the
directory (the demo users and groups as they exist in the database).

The generator is a pure function of these two, so the same seed over the same directory and
window gives the same events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from webapp.demo.people import Person


@dataclass(frozen=True)
class DemoPlan:
    count: int
    days: int
    until: datetime  # aware UTC; the window is (until - days, until]
    seed: int
    retention: timedelta  # events expire this long after they happened, as record() does

    @property
    def start(self) -> datetime:
        return self.until - timedelta(days=self.days)


@dataclass(frozen=True)
class DemoUser:
    person: Person
    pk: int
    reference: dict[str, Any]  # the `user` dict record() writes: {pk, username, email}
    model: dict[str, Any]  # how audit events point at the user: {pk, app, name, model_name}

    @property
    def email(self) -> str:
        return self.reference["email"]


@dataclass(frozen=True)
class DemoGroup:
    pk: str
    model: dict[str, Any]


@dataclass(frozen=True)
class DemoDirectory:
    people: tuple[DemoUser, ...]
    service: DemoUser
    groups: tuple[DemoGroup, ...]

    @property
    def admins(self) -> tuple[DemoUser, ...]:
        return tuple(user for user in self.people if user.person.admin)
