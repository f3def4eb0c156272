"""record(): the one way every event enters Herald.

The event is added to the current database session and committed with the caller's work,
so a change and its event land together. After the commit each event is written as one JSON
log line at info level, so log shipping works as it does for authentik.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.core.bulk_insert import insert_rows
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import actor
from webapp.events.columns import copied_columns
from webapp.events.geoip import enrich
from webapp.events.request_context import normalise_ip, request_defaults, user_reference
from webapp.events.retention import expiry_for, stored_retention
from webapp.events.sanitize import cleanse, sanitize
from webapp.events.serialize import DEFAULT_BRAND, event_to_dict
from webapp.models import DEFAULT_EVENT_RETENTION, Event, EventAction, Settings
from webapp.notifications import outbox

log = logging.getLogger("herald.events")
_PENDING_KEY = "herald_events_to_log"
_UNSET: Any = object()


def record(
    action: str,
    context: Mapping[str, Any] | None = None,
    *,
    app: str | None = None,
    user: Any = None,
    client_ip: str | None = _UNSET,
    created: datetime | None = None,
) -> Event:
    """Create an event in the current session (the caller commits).

    `user` may be a User, a user dict, or None for "whoever this request or block acts as".
    Inside a request the event also gets `context.http_request` and the client IP; a public
    client IP adds `context.geo` and `context.asn` when the GeoIP files are configured.
    """
    row = _event_row(_Shared.now(_caller_module()), action, context, app=app, user=user,
                     client_ip=client_ip, created=created)
    event = Event(**row)
    db.session.add(event)
    _log_after_commit([row])
    return event


def record_many(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Events for many items at once, each exactly as record() would make it from the item's
    keys (record()'s arguments by name), inserted into the current transaction (the caller
    commits) with one executemany for the events and one for their outbox rows.

    Why not record() in a loop: it reads the retention setting and flushes two INSERTs per
    event (the event and, through the mapper listener, its outbox row); a 10,000-item
    `bulk/` call spent most of its time there. For the same reason no ORM objects are built
    (that alone cost a fifth of the time): the events come back as their column values.
    """
    shared = _Shared.now(_caller_module())
    rows = [_event_row(shared, **item) for item in items]
    if rows:
        insert_rows(db.session, Event.__table__, rows)
        outbox.enqueue_many([row["event_uuid"] for row in rows])
    _log_after_commit(rows)
    return rows


@dataclass(frozen=True)
class _Shared:
    """What every event recorded in one call has in common: read once per call."""

    app: str
    retention: timedelta
    request_user: dict[str, Any] | None
    request_ip: str | None
    http_request: dict[str, Any] | None

    #: raw client IP -> (normalised address, its `geo`/`asn` context).
    addresses: dict[Any, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def now(cls, app: str) -> _Shared:
        return cls(app, current_retention(), *request_defaults())

    def address(self, raw: str | None) -> tuple[str | None, dict[str, Any]]:
        """Parsed and looked up once per address and call: bulk items repeat addresses, and
        parsing one (twice: normalising, then the GeoIP public check) was a tenth of the time."""
        if raw not in self.addresses:
            ip, place = normalise_ip(raw), {}
            enrich(place, ip)
            self.addresses[raw] = (ip, place)
        return self.addresses[raw]


def _event_row(
    shared: _Shared,
    action: str,
    context: Mapping[str, Any] | None = None,
    *,
    app: str | None = None,
    user: Any = None,
    client_ip: str | None = _UNSET,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one event: the single recipe record() and record_many() share."""
    ctx: dict[str, Any] = sanitize(dict(context or {}))
    if shared.http_request is not None:
        ctx.setdefault("http_request", shared.http_request)
    user_dict = _resolve_user(user, shared.request_user, ctx)
    ip, place = shared.address(shared.request_ip if client_ip is _UNSET else client_ip)
    ctx = cleanse(ctx)
    for key, value in place.items():  # as geoip.enrich: keys the caller set are kept
        ctx.setdefault(key, value)
    when = created or utcnow()
    return {
        "event_uuid": uuid.uuid4(),
        # sanitize() strips NUL characters, which PostgreSQL refuses in text and JSONB.
        "action": EventAction.normalise(sanitize(str(action))),
        "app": sanitize(app or shared.app),
        "user": user_dict,
        "context": ctx,
        "client_ip": ip,
        "created": when,
        "expires": expiry_for(when, shared.retention),
        "brand": dict(DEFAULT_BRAND),
        **copied_columns(user_dict, ctx),
    }


def _log_after_commit(rows: list[dict[str, Any]]) -> None:
    """Keep the column values, not the ORM objects: after the commit an object is expired and
    may not query again. They are serialized only if the log line will be written."""
    db.session().info.setdefault(_PENDING_KEY, []).extend(rows)


def current_retention() -> timedelta:
    """The retention setting; a damaged value falls back to the default instead of failing."""
    with db.session.no_autoflush:
        text = db.session.scalar(sa.select(Settings.event_retention).limit(1))
    return stored_retention(text, DEFAULT_EVENT_RETENTION)


def _resolve_user(user: Any, request_user: dict[str, Any] | None, ctx: dict[str, Any]):
    chosen = user if user is not None else actor.current_actor()
    if chosen is not None:
        return sanitize(chosen) if isinstance(chosen, Mapping) else user_reference(chosen)
    if request_user is not None:
        return request_user
    source = actor.current_source()
    if source:
        ctx.setdefault("source", source)
    return dict(actor.SYSTEM_USER)


def _caller_module() -> str:
    """Like authentik, default `app` to the module that recorded the event."""
    frame = sys._getframe(2)
    return str(frame.f_globals.get("__name__", "herald"))


@sa.event.listens_for(Session, "after_commit")
def _log_committed_events(session: Session) -> None:
    rows = session.info.pop(_PENDING_KEY, [])
    if not log.isEnabledFor(logging.INFO):
        return  # json.dumps would run before log.info looked at the level
    for row in rows:
        shape = event_to_dict(SimpleNamespace(**row))  # it reads attributes, as of a Row
        log.info(json.dumps({"event": "Created Event", **shape}, sort_keys=True))


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back_events(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
