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
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import actor
from webapp.events.columns import indexed_columns
from webapp.events.geoip import enrich
from webapp.events.request_context import normalise_ip, request_defaults, user_reference
from webapp.events.retention import expiry_for, stored_retention
from webapp.events.sanitize import cleanse, sanitize
from webapp.events.serialize import DEFAULT_BRAND, event_to_dict
from webapp.models import DEFAULT_EVENT_RETENTION, Event, EventAction, Settings

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
    request_user, request_ip, http_request = request_defaults()
    ctx: dict[str, Any] = sanitize(dict(context or {}))
    if http_request is not None:
        ctx.setdefault("http_request", http_request)
    user_dict = _resolve_user(user, request_user, ctx)
    ip = normalise_ip(request_ip if client_ip is _UNSET else client_ip)
    ctx = cleanse(ctx)
    enrich(ctx, ip)
    when = created or utcnow()
    event = Event(
        event_uuid=uuid.uuid4(),
        action=EventAction.normalise(str(action)),
        app=app or _caller_module(),
        user=user_dict,
        context=ctx,
        client_ip=ip,
        created=when,
        expires=expiry_for(when, current_retention()),
        brand=dict(DEFAULT_BRAND),
        **indexed_columns(user_dict, ctx),
    )
    session = db.session()
    session.add(event)
    # Serialized now: after the commit the object is expired and may not query again.
    session.info.setdefault(_PENDING_KEY, []).append(event_to_dict(event))
    return event


def current_retention() -> timedelta:
    """The retention setting; a damaged value falls back to the default instead of failing."""
    with db.session.no_autoflush:
        text = db.session.scalar(sa.select(Settings.event_retention).limit(1))
    return stored_retention(text, DEFAULT_EVENT_RETENTION)


def _resolve_user(user: Any, request_user: dict[str, Any] | None, ctx: dict[str, Any]):
    chosen = user if user is not None else actor.current_actor()
    if chosen is not None:
        return dict(chosen) if isinstance(chosen, Mapping) else user_reference(chosen)
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
    for event_json in session.info.pop(_PENDING_KEY, []):
        log.info(json.dumps({"event": "Created Event", **event_json}, sort_keys=True))


@sa.event.listens_for(Session, "after_rollback")
def _forget_rolled_back_events(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
