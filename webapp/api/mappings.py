"""`propertymappings/notification/`: webhook mappings. A mapping is checked with
validate_mapping as the Webhook Mappings page checks it: as a body, and also as headers when
a transport already uses it for headers, so an edit cannot break a sending transport."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from spectree import Response

from webapp.api.directory_schemas import model_fields
from webapp.api.notification_schemas import (
    MappingChange,
    MappingRequest,
    NotificationWebhookMapping,
    PaginatedNotificationWebhookMappingList,
)
from webapp.api.object_views import object_views
from webapp.api.objects import Errors, by_uuid_or_404, check_name, refuse
from webapp.api.pagination import PageQuery, entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.models import WebhookMapping
from webapp.notifications.mappings import MappingError, validate_mapping
from webapp.notifications.transport_admin import purposes_in_use

TAGS = ("propertymappings",)
ORDER = (WebhookMapping.name, WebhookMapping.id)
META = {"component": "ak-property-mapping-notification-form",
        "verbose_name": "Webhook Mapping", "verbose_name_plural": "Webhook Mappings",
        "meta_model_name": "authentik_events.notificationwebhookmapping"}


def mapping_to_dict(mapping: WebhookMapping) -> dict[str, Any]:
    return {"pk": mapping.uuid, "managed": None, "name": mapping.name,
            "expression": mapping.expression, **META}


@bp.get("/propertymappings/notification/")
@api.validate(query=PageQuery,
              resp=Response(HTTP_200=PaginatedNotificationWebhookMappingList, **ERRORS),
              tags=TAGS)
def list_mappings(query: PageQuery):
    page = page_of(sa.select(WebhookMapping.id), ORDER, query, entities(WebhookMapping, ORDER))
    return page_response(page, mapping_to_dict)


def _create(json: MappingRequest | None):
    mapping = WebhookMapping()
    _apply(mapping, json_body(json))
    db.session.add(mapping)
    db.session.commit()
    return json_response(mapping_to_dict(mapping), 201)


def _update(pk: uuid.UUID, json: MappingChange | None):
    """A webhook mapping: its name and expression (PUT), or those sent (PATCH)."""
    mapping = by_uuid_or_404(WebhookMapping, pk)
    _apply(mapping, json_body(json))
    db.session.commit()
    return json_response(mapping_to_dict(mapping))


object_views("/propertymappings/notification/", "mapping", model=WebhookMapping,
             show=mapping_to_dict, body=MappingRequest, answer=NotificationWebhookMapping,
             create=_create, tags=TAGS)
put_and_patch("/propertymappings/notification/", "mapping", full=MappingRequest,
              partial=MappingChange, answer=NotificationWebhookMapping, update=_update, tags=TAGS)


def _apply(mapping: WebhookMapping, json: MappingChange) -> None:
    """Check the fields sent and set them (400 with every problem found)."""
    sent = {key: value for key, value in model_fields(json).items() if value is not None}
    errors: Errors = {}
    if "name" in sent:
        check_name(WebhookMapping, sent["name"], mapping.id, errors)
    if "expression" in sent:
        for purpose in dict.fromkeys(["body", *purposes_in_use(mapping)]):
            try:
                validate_mapping(sent["expression"], purpose)
            except MappingError as exc:
                errors["expression"] = [str(exc)]
    refuse(errors)
    for key, value in sent.items():
        setattr(mapping, key, value)
