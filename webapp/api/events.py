"""`events/events/`: authentik's event list, detail, custom events and charts, plus Herald's
`bulk/` ingest."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from pydantic import Field, RootModel
from spectree import Response

from webapp.api.event_filters import event_conditions, event_keyset, event_order
from webapp.api.pagination import page_of, page_response
from webapp.api.schemas import (
    BulkEvent,
    BulkResult,
    DetailError,
    Event,
    EventQuery,
    EventRequest,
    EventTopPerUser,
    EventVolume,
    PaginatedEventList,
    TopPerUserQuery,
    TypeCreate,
    ValidationError,
    VolumeQuery,
)
from webapp.api.spec import api, bp, json_body, json_response
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.filters import EventFilter
from webapp.events.request_context import normalise_ip
from webapp.events.serialize import event_to_dict
from webapp.models import Event as EventRow
from webapp.models import EventAction
from webapp.reports.volume import HOUR, grouped_counts

TAGS = ("events",)
MAX_BULK = 10_000
VOLUME_BUCKET_HOURS = 6
ERRORS = {"HTTP_400": ValidationError, "HTTP_403": DetailError}
#: What event_to_dict reads, and nothing else.
EVENT_COLUMNS = (EventRow.event_uuid, EventRow.user, EventRow.action, EventRow.app,
                 EventRow.context, EventRow.client_ip, EventRow.created, EventRow.expires,
                 EventRow.brand)


class BulkEvents(RootModel[list[BulkEvent]]):
    root: list[BulkEvent] = Field(min_length=1, max_length=MAX_BULK)


@bp.get("/events/events/")
@api.validate(query=EventQuery, resp=Response(HTTP_200=PaginatedEventList, **ERRORS),
              tags=TAGS)
def list_events(query: EventQuery):
    """Events, newest first unless `ordering` says otherwise."""
    keys = sa.select(EventRow.event_uuid).where(*event_conditions(query))
    order = event_order(query.ordering)

    def fetch(chosen: sa.ScalarSelect) -> list[sa.Row]:
        """Plain rows (event_to_dict reads the same names): no ORM objects to build."""
        rows = sa.select(*EVENT_COLUMNS).where(EventRow.event_uuid.in_(chosen)).order_by(*order)
        return list(db.session.execute(rows))

    page = page_of(keys, order, query, fetch, keyset=event_keyset(query.ordering))
    return page_response(page, event_to_dict)


@bp.get("/events/events/<event_id>/")
@api.validate(resp=Response(HTTP_200=Event, HTTP_404=DetailError, HTTP_403=DetailError),
              tags=TAGS)
def get_event(event_id: str):
    return json_response(event_to_dict(_event_or_404(event_id)))


@bp.post("/events/events/")
@api.validate(json=EventRequest, resp=Response(HTTP_201=Event, **ERRORS), tags=TAGS)
def create_event(json: EventRequest):
    """A custom event by the caller; an action authentik does not know gets `custom_`."""
    json = json_body(json)
    address = {"client_ip": _checked_ip("client_ip", json.client_ip)} if json.client_ip else {}
    event = record(json.action, json.context, app=json.app, user=current_user, **address)
    body = event_to_dict(event)
    db.session.commit()
    return json_response(body, 201)


@bp.post("/events/events/bulk/")
@api.validate(json=BulkEvents, resp=Response(HTTP_201=BulkResult, **ERRORS), tags=TAGS)
def bulk_create_events(json: BulkEvents):
    """Many events in one transaction: all are stored or, if any item is invalid, none
    (the 400 names each bad item by its index, e.g. `{"3.action": [...]}`)."""
    items = json_body(json).root
    for index, item in enumerate(items):
        _checked_ip(f"{index}.client_ip", item.client_ip)
    events = [record(item.action, item.context, app=item.app,
                     user=item.user if item.user is not None else current_user,
                     client_ip=item.client_ip, created=item.created) for item in items]
    pks = [event.event_uuid for event in events]
    db.session.commit()
    return json_response({"created": len(pks), "pks": [str(pk) for pk in pks]}, 201)


@bp.get("/events/events/actions/")
@api.validate(resp=Response(HTTP_200=list[TypeCreate], HTTP_403=DetailError), tags=TAGS)
def list_actions():
    """Every action authentik knows, as its `actions` endpoint lists them."""
    return json_response([
        {"name": action.value.replace("_", " ").title(), "description": "",
         "component": action.value, "model_name": ""}
        for action in EventAction if action is not EventAction.CUSTOM_PREFIX])


@bp.get("/events/events/volume/")
@api.validate(query=VolumeQuery, resp=Response(HTTP_200=list[EventVolume], **ERRORS),
              tags=TAGS)
def event_volume(query: VolumeQuery):
    """Events per action in 6-hour buckets over the last `history_days` (authentik's shape);
    hours that have closed come from the hourly roll-ups."""
    now = utcnow()
    start = now - timedelta(days=query.history_days)
    filters = EventFilter(actions=tuple(query.actions), username=query.username or "")
    buckets: Counter[tuple[str, object]] = Counter()
    for (hour, action), count in grouped_counts(filters, start, now, HOUR, now).items():
        if query.action and query.action not in action:
            continue
        bucket = hour.replace(hour=hour.hour - hour.hour % VOLUME_BUCKET_HOURS)
        buckets[(action, bucket)] += count
    ordered = sorted(buckets.items(), key=lambda item: (item[0][1], item[0][0]))
    return json_response([{"action": action, "time": bucket, "count": count}
                          for (action, bucket), count in ordered])


@bp.get("/events/events/top_per_user/")
@api.validate(query=TopPerUserQuery, resp=Response(HTTP_200=list[EventTopPerUser], **ERRORS),
              tags=TAGS)
def top_per_user(query: TopPerUserQuery):
    """The applications users authorized most often (authentik's query: events of one action
    grouped by `context.authorized_application`, with how many distinct users)."""
    application = EventRow.context["authorized_application"]
    counted = sa.func.count().label("counted_events")
    rows = db.session.execute(
        sa.select(application.label("application"), counted,
                  sa.func.count(sa.distinct(EventRow.user_pk)).label("unique_users"))
        .where(EventRow.action == query.action, application.is_not(None))
        .group_by(application).order_by(counted.desc()).limit(query.top_n))
    return json_response([row._asdict() for row in rows])


def _event_or_404(event_id: str) -> EventRow:
    try:
        event = db.session.get(EventRow, uuid.UUID(event_id))
    except ValueError:
        event = None
    if event is None:
        abort(json_response({"detail": "No Event matches the given query."}, 404))
    return event


def _checked_ip(field: str, text: str | None) -> str | None:
    """An address, or a 400 naming the field (record() would silently drop a bad one)."""
    if text and normalise_ip(text) is None:
        abort(json_response({field: [f"“{text[:45]}” is not a valid IP address."]}, 400))
    return text
