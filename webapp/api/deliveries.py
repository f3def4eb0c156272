"""Herald's `events/deliveries/`: the delivery ledger (no authentik counterpart), filtered
and retried through webapp/notifications/ledger.py as the Deliveries page does."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.notification_schemas import Delivery, DeliveryQuery, PaginatedDeliveryList
from webapp.api.objects import by_uuid_or_404, refuse
from webapp.api.pagination import entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.spec import api, bp, json_response
from webapp.core.extensions import db
from webapp.events.sanitize import iso_utc
from webapp.models import Delivery as DeliveryRow
from webapp.notifications import ledger

TAGS = ("events",)
ORDER = (DeliveryRow.created.desc(), DeliveryRow.id.desc())
FILTERS = ("status", "transport", "rule", "event")
MOMENTS = ("next_attempt_at", "created", "updated", "sent_at")
COPIED = ("id", "status", "transport_name", "severity", "body", "hyperlink", "attempts",
          "last_status_code", "latency_ms", "response_excerpt", "error")


def delivery_to_dict(delivery: DeliveryRow) -> dict[str, Any]:
    transport, rule = delivery.transport, delivery.rule
    return {"pk": delivery.key, **{name: getattr(delivery, name) for name in COPIED},
            "transport": transport.uuid if transport else None,
            "rule": rule.uuid if rule else None, "event": delivery.event_id,
            "recipient": delivery.recipient_id,
            **{name: iso_utc(value) if (value := getattr(delivery, name)) else None
               for name in MOMENTS}}


@bp.get("/events/deliveries/")
@api.validate(query=DeliveryQuery, resp=Response(HTTP_200=PaginatedDeliveryList, **ERRORS),
              tags=TAGS)
def list_deliveries(query: DeliveryQuery):
    parsed = ledger.parse_filter({name: getattr(query, name) or "" for name in FILTERS})
    refuse({field: [message] for field, message in parsed.errors.items()})
    keys = sa.select(DeliveryRow.id).where(*parsed.filter.conditions())
    page = page_of(keys, ORDER, query, entities(
        DeliveryRow, ORDER, selectinload(DeliveryRow.transport), selectinload(DeliveryRow.rule)))
    return page_response(page, delivery_to_dict)


@bp.get("/events/deliveries/<pk>/")
@api.validate(resp=Response(HTTP_200=Delivery, **ERRORS), tags=TAGS)
def get_delivery(pk: str):
    return json_response(delivery_to_dict(_delivery_or_404(pk)))


@bp.post("/events/deliveries/<pk>/retry/")
@api.validate(resp=Response(HTTP_200=Delivery, **ERRORS), tags=TAGS)
def retry_delivery(pk: str):
    """Queue a failed or dead delivery again now, with a fresh attempt budget."""
    delivery = _delivery_or_404(pk)
    if not ledger.retry_selected([delivery.id]):
        refuse({"status": [f"Only failed or dead deliveries are retried; this one is "
                           f"{delivery.status}."]})
    db.session.commit()
    return json_response(delivery_to_dict(delivery))


def _delivery_or_404(pk: str) -> DeliveryRow:
    """By its key (the API's pk) or by the number the Deliveries page shows."""
    if pk.isdigit() and len(pk) < 10:
        return by_uuid_or_404(DeliveryRow, int(pk), DeliveryRow.id)
    try:
        key = uuid.UUID(pk)
    except ValueError:
        key = uuid.UUID(int=0)  # no delivery has it: a 404 like any unknown key
    return by_uuid_or_404(DeliveryRow, key, DeliveryRow.key)
