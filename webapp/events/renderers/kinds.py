"""What each kind of details partial shows, prepared in Python from an event's context.

Each function takes the event and its context (always a dict here) and returns the few named
values its partial prints. Lookups (usernames for membership pks) and every type check happen
here, so the partials stay plain markup and odd context can never fail in a template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.core.lookups import MAX_ID
from webapp.events.renderers.values import (
    MAX_ITEMS,
    as_json,
    as_text,
    cut,
    mapping,
    string,
    tree,
)
from webapp.models import Event, User

MAX_DIFF_ROWS = 200
MAX_TRACEBACK = 20_000
MAX_BODY_PREVIEW = 1_000
#: Membership keys whose pks are users (the audit trail tells group membership on the group).
USER_MEMBERSHIPS = frozenset({"users"})
MEMBERSHIP_VERBS = {"add": "added", "remove": "removed", "clear": "cleared"}
#: Context keys the message renderer shows in their own places, not in its "more" table.
SHOWN_ELSEWHERE = frozenset({"message", "http_request", "geo", "asn"})
Data = dict[str, Any]


# --- model changes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffRow:
    """One row of the Field / Previous / New table: a value change, or one membership verb."""

    field: str
    previous: str | None = None
    new: str | None = None
    verb: str | None = None  # "added", "removed", "cleared" for membership rows
    members: list[str] = field(default_factory=list)
    hidden: int = 0


def model_change(event: Event, context: Data) -> Data:
    model = mapping(context.get("model"))
    reference = {label: as_text(model.get(key), 200) for label, key in
                 (("name", "name"), ("app", "app"), ("model_name", "model_name"), ("pk", "pk"))}
    diff = mapping(context.get("diff"))
    pairs = list(diff.items())[:MAX_DIFF_ROWS]
    names = _usernames([pk for key, change in pairs if key in USER_MEMBERSHIPS
                        for pk in _membership_pks(change)])
    rows = [row for key, change in sorted(pairs, key=lambda pair: str(pair[0]))
            for row in _diff_rows(cut(str(key), 100), change, names)]
    return {"model": reference if any(reference.values()) else None, "rows": rows,
            "hidden_rows": max(0, len(diff) - MAX_DIFF_ROWS)}


def _is_membership(change: Any) -> bool:
    return isinstance(change, dict) and bool(change) and set(change) <= set(MEMBERSHIP_VERBS)


def _listed(value: Any) -> list[Any]:
    if value is None or value is False:
        return []
    return value if isinstance(value, list) else [value]


def _membership_pks(change: Any) -> list[int]:
    if not _is_membership(change):
        return []
    pks = [_user_pk(pk) for verb in ("add", "remove")
           for pk in _listed(change.get(verb))[:MAX_ITEMS]]
    return [pk for pk in pks if pk is not None]


def _user_pk(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        value = int(value)
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def _usernames(pks: list[int]) -> dict[int, str]:
    """Usernames for user pks, in one query; pks of deleted users are simply absent."""
    wanted = sorted(set(pks))
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(User.id, User.username).where(User.id.in_(wanted)))
    return {pk: name for pk, name in rows}


def _diff_rows(key: str, change: Any, names: dict[int, str]) -> list[DiffRow]:
    if not _is_membership(change):
        change = change if isinstance(change, dict) else {"new_value": change}
        return [DiffRow(key, previous=as_json(change.get("previous_value")),
                        new=as_json(change.get("new_value")))]
    rows = []
    for verb in ("add", "remove"):
        members = _listed(change.get(verb))
        if members:
            shown = [_member_label(key, pk, names) for pk in members[:MAX_ITEMS]]
            rows.append(DiffRow(key, verb=MEMBERSHIP_VERBS[verb], members=shown,
                                hidden=max(0, len(members) - MAX_ITEMS)))
    if change.get("clear"):
        rows.append(DiffRow(key, verb=MEMBERSHIP_VERBS["clear"]))
    return rows


def _member_label(key: str, value: Any, names: dict[int, str]) -> str:
    pk = _user_pk(value)
    if key not in USER_MEMBERSHIPS or pk is None:
        return f"#{as_text(value, 64) or '?'}"
    return names.get(pk) or f"user #{pk} (deleted)"


# --- the pieces several partials share ------------------------------------------------------

def request_info(context: Data) -> Data | None:
    """The HTTP request an event was recorded in, if the context says which."""
    request = mapping(context.get("http_request"))
    info = {"method": string(request.get("method"), 16), "path": string(request.get("path")),
            "user_agent": string(request.get("user_agent")),
            "request_id": string(request.get("request_id"), 64)}
    args = request.get("args")
    info["args"] = tree(args) if isinstance(args, dict) and args else None
    return info if any(info.values()) else None


def origin(event: Event, context: Data) -> Data | None:
    """Where the client was: address, place (GeoIP) and network (ASN)."""
    geo, asn = mapping(context.get("geo")), mapping(context.get("asn"))
    place = [string(geo.get(key), 128) for key in ("city", "country", "continent")]
    lat, long = geo.get("lat"), geo.get("long")
    number = string(asn.get("asn"), 32)
    info = {
        "client_ip": string(event.client_ip, 45),
        "location": ", ".join(part for part in place if part) or None,
        "coordinates": f"{lat}, {long}" if _is_number(lat) and _is_number(long) else None,
        "network": " ".join(part for part in (f"AS{number}" if number else None,
                                              string(asn.get("as_org"), 200)) if part) or None,
        "cidr": string(asn.get("network"), 64),
    }
    return info if any(info.values()) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _message(context: Data) -> str | None:
    return as_text(context.get("message"), 2_000)


# --- one function per partial ----------------------------------------------------------------

def sign_in(event: Event, context: Data) -> Data:
    user = mapping(event.user)
    tried = string(context.get("username"), 255) if event.action == "login_failed" else None
    return {"username": None if user.get("is_anonymous") else string(user.get("username"), 255),
            "tried": tried, "auth_method": string(context.get("auth_method"), 100),
            "request": request_info(context), "origin": origin(event, context)}


def failure(event: Event, context: Data) -> Data:
    trace = next((context[key] for key in ("exception", "traceback", "stacktrace")
                  if context.get(key)), None)
    return {"message": _message(context),
            "traceback": None if trace is None else as_text(trace, MAX_TRACEBACK),
            "request": request_info(context)}


def suspicious(event: Event, context: Data) -> Data:
    return {"reason": as_text(context.get("reason"), 200), "message": _message(context),
            "request": request_info(context), "origin": origin(event, context)}


def email(event: Event, context: Data) -> Data:
    recipients = next((context[key] for key in ("to_email", "to", "recipient", "recipients")
                       if context.get(key)), None)
    listed = [as_text(item, 254) for item in _listed(recipients)[:MAX_ITEMS]]
    body = next((context[key] for key in ("body", "text", "html") if context.get(key)), None)
    return {"recipients": ", ".join(item for item in listed if item) or None,
            "sender": as_text(context.get("from_email"), 254),
            "subject": as_text(context.get("subject"), 500),
            "body": None if body is None else as_text(body, MAX_BODY_PREVIEW),
            "message": _message(context)}


def message(event: Event, context: Data) -> Data:
    rest = {key: value for key, value in context.items() if key not in SHOWN_ELSEWHERE}
    return {"message": _message(context), "rest": tree(rest) if rest else None,
            "request": request_info(context)}


def context_table(event: Event, context: Data) -> Data:
    raw = event.context  # not `context`: a list or a bare value is shown too, as one entry
    if raw is not None and not isinstance(raw, dict):
        context = {"value": raw}
    return {"context": tree(context)}
