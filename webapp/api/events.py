"""`events/events/`: authentik's event list, detail, custom events and charts, plus Herald's
`bulk/` ingest."""

from __future__ import annotations

import re
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
    EventStats,
    EventStatsQuery,
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
from webapp.events.positions import hour_positions
from webapp.events.record import record_many
from webapp.events.request_context import normalise_ip
from webapp.events.retention import RetentionError, parse_retention
from webapp.events.serialize import event_to_dict
from webapp.models import Event as EventRow
from webapp.models import EventAction
from webapp.reports.volume import HOUR, grouped_counts

TAGS = ("events",)
MAX_BULK = 10_000
VOLUME_BUCKET_HOURS = 6
#: authentik's `stats` looks back this far at most.
STATS_DAYS = 60
STEP_SEPARATORS = re.compile(r"[^0-9A-Za-z]")
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
    conditions = event_conditions(query)
    keys = sa.select(EventRow.event_uuid).where(*conditions)
    order = event_order(query.ordering)

    def fetch(chosen: sa.ScalarSelect) -> list[sa.Row]:
        """Plain rows (event_to_dict reads the same names): no ORM objects to build."""
        rows = sa.select(*EVENT_COLUMNS).where(EventRow.event_uuid.in_(chosen)).order_by(*order)
        return list(db.session.execute(rows))

    keyset = event_keyset(query.ordering)
    positions = hour_positions(keyset.descending) if keyset and not conditions else None
    page = page_of(keys, order, query, fetch, keyset=keyset, positions=positions)
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
    # Each item's fields are record()'s arguments; one without a user is the caller's.
    events = record_many([
        {**dict(item), "user": item.user if item.user is not None else current_user}
        for item in items])
    db.session.commit()
    return json_response({"created": len(events),
                          "pks": [str(event["event_uuid"]) for event in events]}, 201)


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


@bp.get("/events/events/stats/")
@api.validate(query=EventStatsQuery, resp=Response(HTTP_200=EventStats, **ERRORS), tags=TAGS)
def event_stats(query: EventStatsQuery):
    """authentik's `stats`: distinct users and per-span counts of the filtered events, over the
    last STATS_DAYS days only, as authentik limits it.

    Sources: authentik's EventStats model (`unique_users: int`, `count_step: {str: any}`)
    and `events_events_stats_retrieve` (required, repeatable `count_steps` in its timedelta
    format, plus the list's filters) in the generated client authentik-client 2026.8.5 (its
    2025.10.4 has no stats endpoint); the key form (`hours=24` -> `hours24`), the 60-day
    limit and the 400 for a malformed step from shared/research/authentik-events.md (§7,
    §9). Users are counted by `user.pk`, so anonymous events add no user.
    """
    now = utcnow()
    steps = {_step_key(text): now - _step(text) for text in query.count_steps}
    counted = [sa.func.count(sa.case((EventRow.created >= since, 1))).label(key)
               for key, since in steps.items()]
    row = db.session.execute(
        sa.select(sa.func.count(sa.distinct(EventRow.user_pk)).label("unique_users"),
                  *counted)
        .where(EventRow.created >= now - timedelta(days=STATS_DAYS),
               *event_conditions(query))).one()
    return json_response({"unique_users": row.unique_users,
                          "count_step": {key: row._mapping[key] for key in steps}})


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


def _step(text: str) -> timedelta:
    """One `count_steps` value, or a 400 that shows the format (authentik answers the same)."""
    try:
        return parse_retention(text)
    except RetentionError as exc:
        abort(json_response({"count_steps": [
            f"“{text[:45]}” is not a time span such as hours=24 or weeks=3;days=2: {exc}"]},
            400))


def _step_key(text: str) -> str:
    return STEP_SEPARATORS.sub("", text)


def _checked_ip(field: str, text: str | None) -> str | None:
    """An address, or a 400 naming the field (record() would silently drop a bad one)."""
    if text and normalise_ip(text) is None:
        abort(json_response({field: [f"“{text[:45]}” is not a valid IP address."]}, 400))
    return text
