"""Finding rows by an id that came from a URL."""

from __future__ import annotations

from typing import TypeVar

from flask import abort

from webapp.core.extensions import db

MAX_ID = 2**31 - 1  # the largest INTEGER primary key PostgreSQL can hold
M = TypeVar("M")


def get_or_404(model: type[M], pk: int) -> M:
    """db.get_or_404, except that an id no INTEGER column can hold is simply not found
    (the database would otherwise fail on the comparison)."""
    if not 0 < pk <= MAX_ID:
        abort(404)
    return db.get_or_404(model, pk)
