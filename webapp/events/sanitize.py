"""Turn arbitrary Python values into JSON, and mask secrets, before they become event context.

Both functions build new structures: the caller's objects are never mutated.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

MASK = "********************"
SENSITIVE_KEY = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE", re.IGNORECASE)
#: Keys that only look sensitive. `authorized_application` is the model reference of an
#: authorize_application event: authentik's examples show it, and the Elastic integration
#: and the API's `context_authorized_app` filter read its pk.
ALLOWED_KEY = re.compile(
    r"^(passing|password_change_date|auth_method(_args)?|authorized_application)$",
    re.IGNORECASE)


def is_sensitive_key(key: object) -> bool:
    text = str(key)
    return bool(SENSITIVE_KEY.search(text)) and not ALLOWED_KEY.match(text)


def cleanse(value: Any) -> Any:
    """Mask the whole value under every sensitive key, at any depth.

    Unlike authentik, a dict or list under a sensitive key is masked as a whole: a secret
    nested one level further down (`{"token": {"value": ...}}`) must not leak either.
    """
    if isinstance(value, Mapping):
        return {k: MASK if is_sensitive_key(k) else cleanse(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cleanse(item) for item in value]
    return value


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: the one format every event timestamp uses.

    Naive datetimes are taken to be UTC already (SQLite hands them back that way).
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def sanitize(value: Any) -> Any:
    """Convert a value into plain JSON types (dict, list, str, int, float, bool, None)."""
    for kind, convert in _CONVERTERS:
        if isinstance(value, kind):
            return convert(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sanitize(dataclasses.asdict(value))
    if _is_model(value):
        return model_reference(value)
    if isinstance(value, type):
        return {"type": value.__name__, "module": value.__module__}
    if callable(value):
        return _callable_reference(value)
    if isinstance(value, Iterable):
        return [sanitize(item) for item in value]
    return _strip_nul(str(value))


def model_reference(obj: Any) -> dict[str, Any]:
    """`{pk, app, name, model_name}`: how an event points at a database object."""
    pk = getattr(obj, "pk", None)
    name = getattr(obj, "username", None) or getattr(obj, "name", None) or str(obj)
    return {
        "pk": sanitize(pk),
        "app": getattr(obj, "__audit_app__", "herald"),
        "name": _strip_nul(str(name)),
        "model_name": type(obj).__name__.lower(),
    }


def _is_model(value: Any) -> bool:
    return hasattr(type(value), "__table__") and hasattr(type(value), "__mapper__")


def _callable_reference(value: Callable[..., Any]) -> dict[str, Any]:
    return {
        "type": "callable",
        "name": getattr(value, "__name__", repr(value)),
        "module": getattr(value, "__module__", ""),
    }


def _strip_nul(text: str) -> str:
    return text.replace("\x00", "")


def _float(value: float) -> float | str:
    """PostgreSQL's JSONB rejects NaN and infinities; keep them readable as strings."""
    return value if math.isfinite(value) else str(value)


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {_strip_nul(str(k)): sanitize(v) for k, v in value.items()}


_CONVERTERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...] = (
    (bool, lambda v: v),
    (type(None), lambda v: v),
    (str, _strip_nul),
    (int, lambda v: v),
    (float, _float),
    (Decimal, lambda v: _float(float(v))),
    (Mapping, _mapping),
    (list | tuple | set | frozenset | types.GeneratorType, lambda v: [sanitize(i) for i in v]),
    (uuid.UUID, lambda v: v.hex),
    (Enum, lambda v: sanitize(v.value)),
    (datetime, iso_utc),
    (date | time, lambda v: v.isoformat()),
    (timedelta, lambda v: str(v.total_seconds())),
    (PurePath | BaseException, lambda v: _strip_nul(str(v))),
    (bytes, lambda v: _strip_nul(v.decode("utf-8", errors="replace"))),
)
