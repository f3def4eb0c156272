"""The columns an event copies out of its `user` and `context` JSON.

Filters (user, affected object, place, request) and the related-events panel read the indexed
ones, each behind an index that ends in the keyset order, so a filtered page of a million-row
table is an index range scan instead of a JSON scan. The CSV export reads the others (email,
ASN, message), unindexed: extracting them from JSON cost the export about 40 % of its rate.
record(), the demo loader and bulk ingest all fill them through this one function, so they
cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any

LIMITS = {"username": 255, "model_app": 100, "model_name": 100, "model_pk": 64,
          "country": 8, "city": 128, "request_id": 64}


def copied_columns(user: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    model = _mapping(context.get("model"))
    geo = _mapping(context.get("geo"))
    request = _mapping(context.get("http_request"))
    pk = user.get("pk")
    values = {
        "username": indexed_username(user, context),
        "model_app": model.get("app"),
        "model_name": model.get("model_name"),
        "model_pk": model.get("pk"),
        "country": geo.get("country"),
        "city": geo.get("city"),
        "request_id": request.get("request_id"),
    }
    columns = {name: _bounded(value, LIMITS[name]) for name, value in values.items()}
    columns["user_pk"] = pk if isinstance(pk, int) and not isinstance(pk, bool) else None
    columns["email"] = json_text(user.get("email"))
    columns["asn"] = json_text(_mapping(context.get("asn")).get("asn"))
    columns["message"] = json_text(context.get("message"))
    return columns


def indexed_username(user: dict[str, Any], context: dict[str, Any]) -> str | None:
    """The user's name, or for anonymous events the username they were about (failed logins)."""
    if user.get("is_anonymous") and isinstance(context.get("username"), str):
        return context["username"]
    name = user.get("username")
    return str(name) if name else None


def json_text(value: Any) -> str | None:
    """A JSON value as one export cell, whole: a string as it is, anything else as compact
    JSON (`true`, `3320`, `{"a":1}`); a missing or null value is NULL."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bounded(value: Any, limit: int) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:limit]
