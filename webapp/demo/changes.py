"""Administrators' changes in the demo: model_created / model_updated / model_deleted contexts
shaped like the audit hooks write them (`model` reference, `diff`, secrets masked)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any, NamedTuple

from webapp.demo import content
from webapp.demo.world import DemoGroup, DemoUser
from webapp.events.sanitize import MASK, cleanse, iso_utc
from webapp.models import EventAction, UserType

#: Where contractor accounts and tokens that come and go in the demo get their pks from.
CONTRACTOR_PK_START = 100_000
TOKEN_PK_START = 1


@dataclass(frozen=True)
class Change:
    """One audited change and the request that made it."""

    action: str
    context: dict[str, Any]
    path: str
    method: str


class Contractor(NamedTuple):
    """A short-lived external account: created and deleted in the demo, never in the table."""

    pk: int
    username: str
    name: str

    @property
    def model(self) -> dict[str, Any]:
        return {"pk": self.pk, "app": "herald", "name": self.username, "model_name": "user"}


def updated(model: dict[str, Any], **fields: tuple[Any, Any]) -> dict[str, Any]:
    diff = {key: {"previous_value": old, "new_value": new} for key, (old, new) in fields.items()}
    return cleanse({"model": model, "diff": diff})


def created(model: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Like the audit hooks on create: every field, each with a null previous value."""
    return updated(model, **{key: (None, value) for key, value in fields.items()})


class ChangeMaker:
    """Draws a random, plausible administrative change at a given time."""

    def __init__(self, rng: random.Random, users: Sequence[DemoUser],
                 groups: Sequence[DemoGroup]) -> None:
        self.rng = rng
        self.users = users
        self.groups = groups
        self._contractor_pks = count(CONTRACTOR_PK_START)
        self._token_pks = count(TOKEN_PK_START)
        kinds: tuple[tuple[float, Callable[[datetime, int], Change]], ...] = (
            (18, self.user_email), (15, self.user_attributes), (7, self.user_active),
            (10, self.user_password), (17, self.group_add), (8, self.group_remove),
            (3, self.retention), (10, self.token_created), (6, self.token_deleted),
            (4, self.contractor_created), (2, self.contractor_deleted),
        )
        self._kinds = [kind for _, kind in kinds]
        self._weights = [weight for weight, _ in kinds]

    def make(self, when: datetime, admin_pk: int) -> Change:
        kind = self.rng.choices(self._kinds, weights=self._weights)[0]
        return kind(when, admin_pk)

    # --- users ----------------------------------------------------------------------------

    def user_email(self, when: datetime, admin_pk: int) -> Change:
        user = self.rng.choice(self.users)
        local = user.email.partition("@")[0]
        old = f"{local}@{self.rng.choice(content.PREVIOUS_EMAIL_DOMAINS)}"
        return self._user_update(user, email=(old, user.email))

    def user_attributes(self, when: datetime, admin_pk: int) -> Change:
        user = self.rng.choice(self.users)
        new = {"department": self.rng.choice(content.DEPARTMENTS),
               "title": self.rng.choice(content.TITLES)}
        return self._user_update(user, attributes=({}, new))

    def user_active(self, when: datetime, admin_pk: int) -> Change:
        user = self.rng.choice(self.users)
        now_active = self.rng.random() < 0.5
        return self._user_update(user, is_active=(not now_active, now_active))

    def user_password(self, when: datetime, admin_pk: int) -> Change:
        """An administrator sets someone's password: the diff shows that, never the hash."""
        user = self.rng.choice(self.users)
        before = when - timedelta(days=self.rng.uniform(30, 400))
        context = updated(user.model, password_hash=(MASK, MASK),
                          password_change_date=(iso_utc(before), iso_utc(when)))
        return Change(EventAction.MODEL_UPDATED, context,
                      f"/api/v3/core/users/{user.pk}/set_password/", "POST")

    def _user_update(self, user: DemoUser, **fields: tuple[Any, Any]) -> Change:
        return Change(EventAction.MODEL_UPDATED, updated(user.model, **fields),
                      f"/api/v3/core/users/{user.pk}/", "PATCH")

    def contractor_created(self, when: datetime, admin_pk: int) -> Change:
        who = self._contractor()
        context = created(
            who.model, id=who.pk, uuid=uuid.UUID(int=self.rng.getrandbits(128), version=4).hex,
            username=who.username, email=f"{who.username}@partner.example.com", name=who.name,
            password_hash=MASK, is_active=True, is_superuser=False,
            type=UserType.EXTERNAL.value, path="users", attributes={"company": "Partner GmbH"},
            date_joined=iso_utc(when), password_change_date=iso_utc(when), last_login=None,
        )
        return Change(EventAction.MODEL_CREATED, context, "/api/v3/core/users/", "POST")

    def contractor_deleted(self, when: datetime, admin_pk: int) -> Change:
        who = self._contractor()
        return Change(EventAction.MODEL_DELETED, {"model": who.model},
                      f"/api/v3/core/users/{who.pk}/", "DELETE")

    def _contractor(self) -> Contractor:
        pk = next(self._contractor_pks)
        surname = self.rng.choice(("Becker", "Novak", "Silva", "Okoye", "Larsen", "Moreau"))
        return Contractor(pk, f"contractor.{surname.lower()}{pk % 1000}", f"{surname} (contractor)")

    # --- groups and settings --------------------------------------------------------------

    def group_add(self, when: datetime, admin_pk: int) -> Change:
        return self._membership("add", "add_user")

    def group_remove(self, when: datetime, admin_pk: int) -> Change:
        return self._membership("remove", "remove_user")

    def _membership(self, verb: str, endpoint: str) -> Change:
        group = self.rng.choice(self.groups)
        user = self.rng.choice(self.users)
        context = cleanse({"model": group.model, "diff": {"users": {verb: [user.pk]}}})
        return Change(EventAction.MODEL_UPDATED, context,
                      f"/api/v3/core/groups/{group.pk}/{endpoint}/", "POST")

    def retention(self, when: datetime, admin_pk: int) -> Change:
        old, new = self.rng.sample(content.RETENTIONS, 2)
        model = {"pk": 1, "app": "herald", "name": "Settings", "model_name": "settings"}
        return Change(EventAction.MODEL_UPDATED, updated(model, event_retention=(old, new)),
                      "/settings/", "POST")

    # --- tokens ---------------------------------------------------------------------------

    def token_created(self, when: datetime, admin_pk: int) -> Change:
        pk, model = self._token()
        expires = when + timedelta(days=self.rng.choice((30, 90, 365)))
        context = created(
            model, id=pk, identifier=model["name"], key_hash=MASK, key_prefix=MASK,
            user_id=admin_pk, description=f"Used by {model['name'].rsplit('-', 1)[0]}",
            intent="api", created=iso_utc(when), expires=iso_utc(expires), last_used=None,
        )
        return Change(EventAction.MODEL_CREATED, context, "/api/v3/core/tokens/", "POST")

    def token_deleted(self, when: datetime, admin_pk: int) -> Change:
        _, model = self._token()
        return Change(EventAction.MODEL_DELETED, {"model": model},
                      f"/api/v3/core/tokens/{model['name']}/", "DELETE")

    def _token(self) -> tuple[int, dict[str, Any]]:
        pk = next(self._token_pks)
        name = f"{self.rng.choice(content.TOKEN_PURPOSES)}-{self.rng.getrandbits(16):04x}"
        return pk, {"pk": pk, "app": "herald", "name": name, "model_name": "token"}
