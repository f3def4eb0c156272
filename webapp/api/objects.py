"""What the configuration endpoints (transports, rules, mappings, policies, bindings) share:
finding an object by its authentik pk (a UUID) and refusing a write with `{field: [...]}`."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort

from webapp.api.spec import json_response
from webapp.core.extensions import db
from webapp.forms.directory import name_taken

M = TypeVar("M")
Errors = dict[str, list[str]]


def by_uuid_or_404(model: type[M], pk: uuid.UUID | int, column: Any = None) -> M:
    """The row whose `uuid` (or `column`) is `pk`, or DRF's 404."""
    found = db.session.scalar(sa.select(model).where((column or model.uuid) == pk))
    if found is None:
        abort(json_response({"detail": f"No {model.__name__} matches the given query."}, 404))
    return found


def by_uuid_or_error(model: type[M], pk: uuid.UUID | int | None, field: str, errors: Errors,
                     column: Any = None) -> M | None:
    """A referenced row, or None with `field`'s error noted when no row has that pk."""
    if pk is None:
        return None
    found = db.session.scalar(sa.select(model).where((column or model.uuid) == pk))
    if found is None:
        errors.setdefault(field, []).append(f'Invalid pk "{pk}" - object does not exist.')
    return found


def check_name(model: Any, name: str, own_id: int | None, errors: Errors) -> None:
    """Names are unique without regard to case, as the pages check them."""
    if name_taken(model.name, model.id, name, own_id):
        errors.setdefault("name", []).append(f"An object named '{name}' already exists.")


def refuse(errors: Errors) -> None:
    """Answer 400 with the errors found, if any."""
    if errors:
        abort(json_response(errors, 400))

