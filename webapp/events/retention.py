"""Retention strings (`days=365`, `hours=1;minutes=30`) and the expiry they give an event."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from webapp.core.db_types import utcnow

UNITS = ("microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "weeks")
#: Longer than any sensible retention, short enough that `created + retention` never overflows.
MAX_RETENTION = timedelta(days=365 * 100)


class RetentionError(ValueError):
    """The retention string cannot be used; the message says why, for the form to show."""


def parse_retention(text: str) -> timedelta:
    """Parse `key=value` pairs separated by `;` into a positive timedelta.

    Unlike authentik, unknown units are an error rather than silently ignored: `dayz=30`
    meaning "keep forever" is not what an administrator meant.
    """
    if not isinstance(text, str) or not text.strip():
        raise RetentionError("Enter a retention such as days=365 or hours=1;minutes=30.")
    parts: dict[str, float] = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        unit, value = _parse_pair(pair)
        parts[unit] = parts.get(unit, 0.0) + value
    try:
        total = timedelta(**parts)
    except OverflowError as exc:
        raise RetentionError("That retention is too long.") from exc
    if total <= timedelta(0):
        raise RetentionError("The retention must be longer than zero.")
    if total > MAX_RETENTION:
        raise RetentionError("The retention can be at most 100 years.")
    return total


def stored_retention(text: str | None, default: str) -> timedelta:
    """A retention read from the settings row: a damaged value falls back to `default`, so a
    bad row never stops recording events or a cleanup job."""
    try:
        return parse_retention(text or default)
    except RetentionError:
        return parse_retention(default)


def _parse_pair(pair: str) -> tuple[str, float]:
    unit, sep, raw = pair.partition("=")
    unit = unit.strip().lower()
    if not sep:
        raise RetentionError(f"'{pair}' is not of the form unit=number.")
    if unit not in UNITS:
        raise RetentionError(f"Unknown unit '{unit}'; use one of: {', '.join(UNITS)}.")
    try:
        value = float(raw)
    except ValueError as exc:
        raise RetentionError(f"'{raw.strip()}' is not a number.") from exc
    if not math.isfinite(value) or value < 0:
        raise RetentionError(f"'{raw.strip()}' must be a positive number.")
    return unit, value


def expiry_for(created: datetime | None, retention: timedelta) -> datetime:
    return (created or utcnow()) + retention
