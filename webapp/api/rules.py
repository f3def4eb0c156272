"""`events/rules/`: notification rules, saved through webapp/notifications/rule_admin.py as
the Rules page saves them, with its form's checks. A rule's bindings are not part of its
shape (as in authentik); they are managed at `policies/bindings/` and kept as they are here."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.directory_schemas import model_fields
from webapp.api.notification_schemas import (
    NotificationRule,
    PaginatedNotificationRuleList,
    RuleChange,
    RuleRequest,
)
from webapp.api.object_views import object_views
from webapp.api.objects import Errors, by_uuid_or_404, by_uuid_or_error, check_name, refuse
from webapp.api.pagination import PageQuery, entities, page_of, page_response
from webapp.api.schemas import ERRORS
from webapp.api.serializers import group_to_dict
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.models import Group, NotificationTransport
from webapp.models import NotificationRule as RuleRow
from webapp.notifications import rule_admin
from webapp.notifications.rule_admin import BindingSpec, RuleSpec

TAGS = ("events",)
ORDER = (RuleRow.name, RuleRow.id)
LOADED = (selectinload(RuleRow.transports), selectinload(RuleRow.bindings),
          selectinload(RuleRow.destination_group).selectinload(Group.users),
          selectinload(RuleRow.destination_group).selectinload(Group.parent))
#: Settings copied between a rule and its RuleSpec as they are.
PLAIN = ("name", "enabled", "severity", "destination_event_user", "policy_engine_mode",
         "throttle_minutes", "throttle_key")
DEFAULT_THROTTLE_KEY = RuleRow.__table__.c.throttle_key.default.arg


def rule_to_dict(rule: RuleRow) -> dict[str, Any]:
    group = rule.destination_group
    return {"pk": rule.uuid, **{name: getattr(rule, name) for name in PLAIN},
            "transports": [transport.uuid for transport in rule.transports],
            "destination_group": group.group_uuid if group else None,
            "destination_group_obj": group_to_dict(group) if group else None}


@bp.get("/events/rules/")
@api.validate(query=PageQuery, resp=Response(HTTP_200=PaginatedNotificationRuleList, **ERRORS),
              tags=TAGS)
def list_rules(query: PageQuery):
    page = page_of(sa.select(RuleRow.id), ORDER, query, entities(RuleRow, ORDER, *LOADED))
    return page_response(page, rule_to_dict)


def _create(json: RuleRequest | None):
    rule = rule_admin.create_rule(_spec(json_body(json), None))
    db.session.commit()
    return json_response(rule_to_dict(rule), 201)


def _update(pk: uuid.UUID, json: RuleChange | None):
    """A notification rule: all its settings (PUT), or those sent (PATCH)."""
    rule = by_uuid_or_404(RuleRow, pk)
    rule_admin.apply_spec(rule, _spec(json_body(json), rule))
    db.session.commit()
    return json_response(rule_to_dict(rule))


object_views("/events/rules/", "rule", model=RuleRow, show=rule_to_dict, body=RuleRequest,
             answer=NotificationRule, create=_create, tags=TAGS)
put_and_patch("/events/rules/", "rule", full=RuleRequest, partial=RuleChange,
              answer=NotificationRule, update=_update, tags=TAGS)


def _spec(json: RuleChange, rule: RuleRow | None) -> RuleSpec:
    """The rule's settings (or the defaults) with the fields sent over them, checked as the
    form checks them; its bindings stay as they are."""
    sent = {key: value for key, value in model_fields(json).items()
            if value is not None or key == "destination_group"}
    errors: Errors = {}
    spec = rule_spec(rule)
    for name in PLAIN:
        setattr(spec, name, sent.get(name, getattr(spec, name)))
    check_name(RuleRow, spec.name, rule and rule.id, errors)
    if "destination_group" in sent:
        spec.destination_group = by_uuid_or_error(Group, sent["destination_group"],
                                                  "destination_group", errors,
                                                  Group.group_uuid)
    if "transports" in sent:
        spec.transports = _transports(sent["transports"], errors)
    if "throttle_key" in sent and (problem := rule_admin.throttle_key_error(spec.throttle_key)):
        errors["throttle_key"] = [f"This template does not render: {problem}"]
    refuse(errors)
    return spec


def rule_spec(rule: RuleRow | None) -> RuleSpec:
    """The rule as the Rules page would save it again unchanged (defaults for a new one)."""
    if rule is None:
        return RuleSpec(name="", throttle_key=DEFAULT_THROTTLE_KEY)
    bindings = [BindingSpec(target=binding.policy or binding.group or binding.user,
                            enabled=binding.enabled, negate=binding.negate,
                            order=binding.order, timeout=binding.timeout,
                            failure_result=binding.failure_result, binding_id=binding.id)
                for binding in rule.bindings]
    return RuleSpec(**{name: getattr(rule, name) for name in PLAIN},
                    destination_group=rule.destination_group,
                    transports=list(rule.transports), bindings=bindings)


def _transports(pks: list[uuid.UUID], errors: Errors) -> list[NotificationTransport]:
    found = [by_uuid_or_error(NotificationTransport, pk, "transports", errors)
             for pk in dict.fromkeys(pks)]
    return [transport for transport in found if transport is not None]
