"""`events/notifications/`: the bell over the API, for every signed-in user.

Whose notifications a list shows: the caller's own, superusers included (the bell is
personal, and authentik's web interface asks for `user=<own pk>` too). A superuser may list
another user's with `?user=<pk>` and reach any notification by its pk, as authentik lets an
administrator; anyone else only ever reaches their own, so another user's pk lists nothing and
another user's notification is a 404. Marking read goes through webapp/notifications/inbox.py,
as the bell's buttons do."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from spectree import Response

from webapp.api.notification_schemas import (
    Notification,
    NotificationChange,
    NotificationQuery,
    PaginatedNotificationList,
)
from webapp.api.pagination import entities, page_of, page_of_results
from webapp.api.schemas import ERRORS
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.events.sanitize import iso_utc
from webapp.events.serialize import event_to_dict
from webapp.models import Event
from webapp.models import Notification as NotificationRow
from webapp.notifications import inbox
from webapp.web.security import for_any_user

TAGS = ("events",)
ORDER = (NotificationRow.created.desc(), NotificationRow.id.desc())


@bp.get("/events/notifications/")
@for_any_user
@api.validate(query=NotificationQuery,
              resp=Response(HTTP_200=PaginatedNotificationList, **ERRORS), tags=TAGS)
def list_notifications(query: NotificationQuery):
    owner = NotificationRow.user_id == (query.user or current_user.id)
    keys = sa.select(NotificationRow.id).where(owner, *_reachable())
    if query.seen is not None:
        keys = keys.where(NotificationRow.seen == query.seen)
    if query.severity is not None:
        keys = keys.where(NotificationRow.severity == query.severity)
    page = page_of(keys, ORDER, query, entities(NotificationRow, ORDER))
    return page_of_results(page, _serialized(page.rows))


@bp.get("/events/notifications/<uuid:pk>/")
@for_any_user
@api.validate(resp=Response(HTTP_200=Notification, **ERRORS), tags=TAGS)
def get_notification(pk: uuid.UUID):
    return json_response(_serialized([_reachable_or_404(pk)])[0])


@bp.delete("/events/notifications/<uuid:pk>/")
@for_any_user
@api.validate(resp=Response("HTTP_204", **ERRORS), tags=TAGS)
def delete_notification(pk: uuid.UUID):
    db.session.delete(_reachable_or_404(pk))
    db.session.commit()
    return "", 204


@bp.post("/events/notifications/mark_all_seen/")
@for_any_user
@api.validate(resp=Response("HTTP_204", **ERRORS), tags=TAGS)
def mark_all_seen():
    inbox.mark_all_read(current_user.id)
    db.session.commit()
    return "", 204


def _update(pk: uuid.UUID, json: NotificationChange | None):
    """Mark one's own notification seen or unseen. authentik's notification requests require
    nothing, so PUT and PATCH take the same body."""
    notification = _reachable_or_404(pk)
    seen = json_body(json).seen
    if seen:
        inbox.mark_read(notification.user_id, pk)
        db.session.refresh(notification)
    elif seen is False:  # inbox has no "mark unread": the bell never offers it, the API does
        notification.seen, notification.seen_at = False, None
    db.session.commit()
    return json_response(_serialized([notification])[0])


put_and_patch("/events/notifications/", "notification", full=NotificationChange,
              partial=NotificationChange, answer=Notification, update=_update, tags=TAGS,
              guard=for_any_user)


def _reachable() -> list[sa.ColumnElement[bool]]:
    """Conditions limiting notifications to those the caller may reach."""
    return [] if current_user.is_admin else [NotificationRow.user_id == current_user.id]


def _reachable_or_404(pk: uuid.UUID) -> NotificationRow:
    """Another user's notification is 404 to a regular user: not theirs to know of."""
    found = db.session.scalar(sa.select(NotificationRow).where(
        NotificationRow.uuid == pk, *_reachable()))
    if found is None:
        abort(json_response({"detail": "No Notification matches the given query."}, 404))
    return found


def _serialized(rows: Sequence[NotificationRow]) -> list[dict[str, Any]]:
    """The notifications with their events, which are loaded in one query for all of them."""
    event_ids = {row.event_id for row in rows if row.event_id is not None}
    loaded = db.session.scalars(sa.select(Event).where(Event.event_uuid.in_(event_ids))) \
        if event_ids else ()
    events = {event.event_uuid: event_to_dict(event) for event in loaded}
    return [{"pk": row.pk, "severity": row.severity, "body": row.body,
             "created": iso_utc(row.created), "event": events.get(row.event_id),
             "seen": row.seen, "hyperlink": row.hyperlink,
             "hyperlink_label": row.hyperlink_label, "user": row.user_id}
            for row in rows]
