"""`events/transports/`: notification transports, saved through the functions the
Transports page uses (webapp/notifications/transport_admin.py) and checked with the same
checks as its form, so a transport the API accepts is one the page would have accepted."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask_login import current_user
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.directory_schemas import model_fields
from webapp.api.notification_schemas import (
    NotificationTransport,
    PaginatedNotificationTransportList,
    TransportChange,
    TransportRequest,
    TransportTest,
)
from webapp.api.object_views import object_views
from webapp.api.objects import Errors, by_uuid_or_404, by_uuid_or_error, check_name, refuse
from webapp.api.pagination import PageQuery, entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.forms.transports import email_templates
from webapp.models import NotificationTransport as TransportRow
from webapp.models import User, WebhookMapping
from webapp.notifications import transport_admin
from webapp.notifications.transport_admin import (
    MODE_FIELDS,
    MODE_LABELS,
    WEBHOOK_MODES,
    TestOutcome,
    TransportSettings,
)

TAGS = ("events",)
ORDER = (TransportRow.name, TransportRow.id)
#: Fields where null means "none" rather than "not sent".
NULLABLE = frozenset({"webhook_mapping_body", "webhook_mapping_headers"})
MAPPINGS = ("webhook_mapping_body", "webhook_mapping_headers")


def transport_to_dict(transport: TransportRow) -> dict[str, Any]:
    body, headers = transport.webhook_mapping_body, transport.webhook_mapping_headers
    return {"pk": transport.uuid, "name": transport.name, "mode": transport.mode,
            "mode_verbose": MODE_LABELS.get(transport.mode, transport.mode),
            "webhook_url": transport.webhook_url,
            "webhook_mapping_body": body.uuid if body else None,
            "webhook_mapping_headers": headers.uuid if headers else None,
            "send_once": transport.send_once,
            "email_subject_prefix": transport.email_subject_prefix,
            "email_template": transport.email_template, "verify_tls": transport.verify_tls,
            "ca_bundle": transport.ca_bundle,
            "signing_secret_set": bool(transport.signing_secret)}


@bp.get("/events/transports/")
@api.validate(query=PageQuery,
              resp=Response(HTTP_200=PaginatedNotificationTransportList, **ERRORS), tags=TAGS)
def list_transports(query: PageQuery):
    page = page_of(sa.select(TransportRow.id), ORDER, query, entities(
        TransportRow, ORDER, selectinload(TransportRow.webhook_mapping_body),
        selectinload(TransportRow.webhook_mapping_headers)))
    return page_response(page, transport_to_dict)


def _create(json: TransportRequest | None):
    transport = transport_admin.create_transport(_settings(json_body(json), None))
    db.session.commit()
    return json_response(transport_to_dict(transport), 201)


def _update(pk: uuid.UUID, json: TransportChange | None):
    """A transport's settings: all of them (PUT) or those sent (PATCH)."""
    transport = by_uuid_or_404(TransportRow, pk)
    transport_admin.update_transport(transport, _settings(json_body(json), transport))
    db.session.commit()
    return json_response(transport_to_dict(transport))


object_views("/events/transports/", "transport", model=TransportRow, show=transport_to_dict,
             body=TransportRequest, answer=NotificationTransport, create=_create, tags=TAGS)
put_and_patch("/events/transports/", "transport", full=TransportRequest, partial=TransportChange,
              answer=NotificationTransport, update=_update, tags=TAGS)


@bp.post("/events/transports/<uuid:pk>/test/")
@api.validate(resp=Response(HTTP_200=TransportTest, **ERRORS), tags=TAGS)
def test_transport(pk: uuid.UUID):
    """Sends to the caller, as the page's Test button does. A receiver's failure is
    reported in the messages with status 200 (authentik answers 500, which clients cannot
    tell from a crash)."""
    transport = by_uuid_or_404(TransportRow, pk)
    outcome = transport_admin.send_test(transport, db.session.get_one(User, current_user.id))
    db.session.commit()
    return json_response({"messages": _messages(outcome)})


def _messages(outcome: TestOutcome) -> list[str]:
    found = [outcome.summary,
             f"status: {outcome.status_code}" if outcome.status_code is not None else "",
             f"latency: {outcome.latency_ms} ms" if outcome.latency_ms is not None else "",
             f"error: {outcome.error}" if outcome.error else "",
             f"response: {outcome.excerpt}" if outcome.excerpt else ""]
    return [message for message in found if message]


def _settings(json: TransportChange, transport: TransportRow | None) -> TransportSettings:
    """The transport's settings with the fields sent over them, checked as the form checks
    them; only the settings the chosen mode reads are checked (the others are reset)."""
    sent = {key: value for key, value in model_fields(json).items()
            if value is not None or key in NULLABLE}
    current = transport_to_dict(transport) if transport else {
        "mode": json.mode, "email_template": TransportSettings.email_template,
        "webhook_mapping_body": None, "webhook_mapping_headers": None}
    values = {**current, **sent}
    used = MODE_FIELDS[values["mode"]]
    errors: Errors = {}
    check_name(TransportRow, values["name"], transport and transport.id, errors)
    _check_receiver(values, used, errors)
    mapping_ids = {field: _mapping_id(values[field], field, errors)
                   for field in MAPPINGS if f"{field}_id" in used}
    if "email_template" in used and values["email_template"] not in dict(
            email_templates(transport)):
        errors["email_template"] = ["Choose one of the templates under email/."]
    refuse(errors)
    chosen = {key: value for key, value in values.items()
              if key in TransportSettings.__dataclass_fields__}
    return TransportSettings(**chosen, **{f"{key}_id": value
                                          for key, value in mapping_ids.items()})


def _check_receiver(values: dict[str, Any], used: frozenset[str], errors: Errors) -> None:
    checks = [("webhook_url", transport_admin.check_webhook_url,
               values["mode"] in WEBHOOK_MODES),
              ("ca_bundle", transport_admin.check_ca_bundle,
               "ca_bundle" in used and bool((values.get("ca_bundle") or "").strip()))]
    for field, check, wanted in checks:
        try:
            if wanted:
                check(values.get(field) or "")
        except ValueError as exc:
            errors[field] = [str(exc)]


def _mapping_id(pk: uuid.UUID | None, field: str, errors: Errors) -> int | None:
    mapping = by_uuid_or_error(WebhookMapping, pk, field, errors)
    return mapping.id if mapping else None
