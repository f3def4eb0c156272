"""`policies/bindings/`: what ties a policy, a group or a user to a notification rule (the
binding's `target`). A binding is saved through rule_admin.apply_spec, as the rule form
saves its rows, so the same checks and audit events apply; the rule's other bindings are
kept as they are."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from spectree import Response
from sqlalchemy.orm import selectinload

from webapp.api.directory_schemas import model_fields
from webapp.api.object_views import object_views
from webapp.api.objects import Errors, by_uuid_or_404, by_uuid_or_error, refuse
from webapp.api.pagination import entities, page_of, page_of_results
from webapp.api.policies import bound_to_counts, policy_to_dict
from webapp.api.policy_schemas import (
    BindingChange,
    BindingQuery,
    BindingRequest,
    PaginatedPolicyBindingList,
    PolicyBinding,
)
from webapp.api.rules import rule_spec
from webapp.api.schemas import ERRORS
from webapp.api.serializers import partial_group_to_dict, partial_user_to_dict
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.models import Group, NotificationRule, Policy, User
from webapp.models import PolicyBinding as BindingRow
from webapp.notifications.rule_admin import BindingSpec, apply_spec

TAGS = ("policies",)
ORDER = (BindingRow.order, BindingRow.id)
SETTINGS = ("negate", "enabled", "order", "timeout", "failure_result")
TARGETS = ("policy", "group", "user")


def binding_to_dict(binding: BindingRow, bound_to: dict[int, int]) -> dict[str, Any]:
    policy, group, user = binding.policy, binding.group, binding.user
    return {"pk": binding.uuid, "policy": policy.uuid if policy else None,
            "group": group.group_uuid if group else None, "user": binding.user_id,
            "policy_obj": policy_to_dict(policy, bound_to.get(policy.id, 0)) if policy else None,
            "group_obj": partial_group_to_dict(group) if group else None,
            "user_obj": partial_user_to_dict(user) if user else None,
            "target": binding.rule.uuid, **{name: getattr(binding, name) for name in SETTINGS}}


def _shown(binding: BindingRow) -> dict[str, Any]:
    """One binding, with its policy's binding count."""
    counts = bound_to_counts([binding.policy_id] if binding.policy_id else [])
    return binding_to_dict(binding, counts)


@bp.get("/policies/bindings/")
@api.validate(query=BindingQuery, resp=Response(HTTP_200=PaginatedPolicyBindingList, **ERRORS),
              tags=TAGS)
def list_bindings(query: BindingQuery):
    keys = sa.select(BindingRow.id)
    if query.target:
        keys = keys.join(BindingRow.rule).where(NotificationRule.uuid == query.target)
    if query.policy:
        keys = keys.join(BindingRow.policy).where(Policy.uuid == query.policy)
    page = page_of(keys, ORDER, query, entities(
        BindingRow, ORDER, selectinload(BindingRow.rule), selectinload(BindingRow.policy),
        selectinload(BindingRow.group), selectinload(BindingRow.user)))
    counts = bound_to_counts([row.policy_id for row in page.rows if row.policy_id])
    return page_of_results(page, [binding_to_dict(row, counts) for row in page.rows])


def _create(json: BindingRequest | None):
    return json_response(_shown(_save(None, json_body(json))), 201)


def _update(pk: uuid.UUID, json: BindingChange | None):
    """A binding's target and settings: all of them (PUT) or those sent (PATCH)."""
    binding = by_uuid_or_404(BindingRow, pk)
    return json_response(_shown(_save(binding, json_body(json))))


object_views("/policies/bindings/", "binding", model=BindingRow, show=_shown,
             body=BindingRequest, answer=PolicyBinding, create=_create, tags=TAGS)
put_and_patch("/policies/bindings/", "binding", full=BindingRequest, partial=BindingChange,
              answer=PolicyBinding, update=_update, tags=TAGS)


def _save(binding: BindingRow | None, json: BindingChange) -> BindingRow:
    """The binding with the fields sent over its own (or the defaults), saved as a row of
    its rule's spec. A new target moves the binding to that rule."""
    sent = model_fields(json)
    errors: Errors = {}
    rule = binding.rule if binding and json.target is None else by_uuid_or_error(
        NotificationRule, json.target, "target", errors)
    target = _target(binding, sent, errors)
    refuse(errors)
    defaults = BindingSpec(target=target, binding_id=binding and binding.id)
    item = BindingSpec(target=target, binding_id=defaults.binding_id, **{
        name: sent[name] if sent.get(name) is not None else getattr(binding or defaults, name)
        for name in SETTINGS})
    if binding is not None:
        binding.rule = rule
    spec = rule_spec(rule)
    spec.bindings = [*(kept for kept in spec.bindings if kept.binding_id != item.binding_id
                       or item.binding_id is None), item]
    apply_spec(rule, spec)
    saved = rule.bindings[-1]  # the item's row: the relationship reorders it once reloaded
    db.session.commit()
    return saved


def _target(binding: BindingRow | None, sent: dict[str, Any], errors: Errors) -> Any:
    """The policy, group or user the binding points at: exactly one, sent or kept."""
    chosen = {name: sent[name] for name in TARGETS if sent.get(name) is not None}
    if not chosen and binding is not None and not set(TARGETS) & set(sent):
        return binding.policy or binding.group or binding.user
    if len(chosen) != 1:
        errors["non_field_errors"] = ["Set exactly one of policy, group and user."]
        return None
    (name, pk), = chosen.items()
    model, column = {"policy": (Policy, Policy.uuid), "group": (Group, Group.group_uuid),
                     "user": (User, User.id)}[name]
    return by_uuid_or_error(model, pk, name, errors, column)
