"""`policies/all/`, `policies/event_matcher/` and `policies/expression/`: policies saved
through webapp/policies/admin.py, which validates them as the Policies page does (a matcher
needs a usable criterion, an expression must pass the sandbox's check)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
from spectree import Response

from webapp.api.directory_schemas import model_fields
from webapp.api.object_views import destroy_view, object_views, retrieve_view
from webapp.api.objects import Errors, by_uuid_or_404, check_name, refuse
from webapp.api.pagination import entities, page_of, page_of_results
from webapp.api.policy_schemas import (
    EventMatcherChange,
    EventMatcherPolicy,
    EventMatcherRequest,
    ExpressionChange,
    ExpressionPolicy,
    ExpressionRequest,
    PaginatedEventMatcherPolicyList,
    PaginatedExpressionPolicyList,
    PaginatedPolicyList,
    PolicyChange,
    PolicyQuery,
)
from webapp.api.policy_schemas import (
    Policy as PolicyShape,
)
from webapp.api.schemas import ERRORS
from webapp.api.spec import api, bp, json_body, json_response
from webapp.api.updates import put_and_patch
from webapp.core.extensions import db
from webapp.events.sanitize import iso_utc
from webapp.models import EventMatcherPolicy as MatcherRow
from webapp.models import ExpressionPolicy as ExpressionRow
from webapp.models import Policy, PolicyBinding
from webapp.policies import admin
from webapp.policies.event_matcher import PolicyConfigError
from webapp.policies.sandbox import SandboxError

TAGS = ("policies",)
META = {
    "event_matcher": {"component": "ak-policy-event-matcher-form",
                      "verbose_name": "Event Matcher Policy",
                      "verbose_name_plural": "Event Matcher Policies",
                      "meta_model_name": "authentik_policies_event_matcher.eventmatcherpolicy"},
    "expression": {"component": "ak-policy-expression-form",
                   "verbose_name": "Expression Policy",
                   "verbose_name_plural": "Expression Policies",
                   "meta_model_name": "authentik_policies_expression.expressionpolicy"},
}
KIND_FIELDS = {"event_matcher": admin.MATCHER_FIELDS, "expression": ("expression",)}


def policy_to_dict(policy: Policy, bound_to: int) -> dict[str, Any]:
    """authentik's shape of the policy's own type (policies/all/ lists each so too)."""
    return {"pk": policy.uuid, "name": policy.name,
            "execution_logging": policy.execution_logging, "bound_to": bound_to,
            "created": iso_utc(policy.created), **META[policy.kind],
            **{field: getattr(policy, field) for field in KIND_FIELDS[policy.kind]}}


def _shown(policy: Policy) -> dict[str, Any]:
    """One policy, with its binding count."""
    return policy_to_dict(policy, bound_to_counts([policy.id]).get(policy.id, 0))


@bp.get("/policies/all/")
@api.validate(query=PolicyQuery, resp=Response(HTTP_200=PaginatedPolicyList, **ERRORS),
              tags=TAGS)
def list_policies(query: PolicyQuery):
    return _page(Policy, query)


@bp.get("/policies/event_matcher/")
@api.validate(query=PolicyQuery,
              resp=Response(HTTP_200=PaginatedEventMatcherPolicyList, **ERRORS), tags=TAGS)
def list_event_matchers(query: PolicyQuery):
    return _page(MatcherRow, query)


@bp.get("/policies/expression/")
@api.validate(query=PolicyQuery,
              resp=Response(HTTP_200=PaginatedExpressionPolicyList, **ERRORS), tags=TAGS)
def list_expressions(query: PolicyQuery):
    return _page(ExpressionRow, query)


retrieve_view("/policies/all/", "policy", find=partial(by_uuid_or_404, Policy), show=_shown,
              answer=PolicyShape, tags=TAGS)
destroy_view("/policies/all/", "policy", find=partial(by_uuid_or_404, Policy), tags=TAGS)


def _save_matcher(policy: MatcherRow | None, json: EventMatcherChange) -> MatcherRow:
    """Criteria not sent keep their value; a criterion sent as null is cleared."""
    sent = model_fields(json)
    criteria = {field: sent.get(field, getattr(policy, field, None))
                for field in admin.MATCHER_FIELDS}
    return _saved(policy, json, lambda **common: admin.save_event_matcher(
        policy, **common, **criteria), PolicyConfigError, "non_field_errors")


def _save_expression(policy: ExpressionRow | None, json: ExpressionChange) -> ExpressionRow:
    expression = json.expression or policy.expression
    return _saved(policy, json, lambda **common: admin.save_expression(
        policy, expression=expression, **common), SandboxError, "expression")


def _saved(policy: Policy | None, json: PolicyChange, save: Callable[..., Any],
           error: type[Exception], field: str) -> Any:
    """Check the name, then save (the save validates the type's own fields); its refusal is
    a 400 on `field`, and nothing is changed then."""
    name = json.name or policy.name
    errors: Errors = {}
    check_name(Policy, name, policy and policy.id, errors)
    refuse(errors)
    execution_logging = (getattr(policy, "execution_logging", False)
                         if json.execution_logging is None else json.execution_logging)
    try:
        saved = save(name=name, execution_logging=execution_logging)
    except error as exc:
        refuse({field: [str(exc)]})
    db.session.commit()
    return saved


def _policy_type_views(kind: str, *, model: type[Policy], body: type[PolicyChange],
                       change: type[PolicyChange], answer: type[PolicyShape],
                       save: Callable[[Any, Any], Policy], summary: str) -> None:
    """`policies/<kind>/<pk>/` and its creation: both types are looked up, shown, saved
    (through their own `save`) and deleted alike. `summary` documents PUT and PATCH."""
    def create(json: Any):
        return json_response(_shown(save(None, json_body(json))), 201)

    def update(pk: uuid.UUID, json: Any):
        policy = by_uuid_or_404(model, pk)
        return json_response(_shown(save(policy, json_body(json))))

    update.__doc__ = summary
    path = f"/policies/{kind}/"
    object_views(path, kind, model=model, show=_shown, body=body, answer=answer, create=create,
                 tags=TAGS)
    put_and_patch(path, kind, full=body, partial=change, answer=answer, update=update, tags=TAGS)


_policy_type_views(
    "event_matcher", model=MatcherRow, body=EventMatcherRequest, change=EventMatcherChange,
    answer=EventMatcherPolicy, save=_save_matcher,
    summary="An event matcher's name and criteria: all of them (PUT) or those sent (PATCH).")
_policy_type_views(
    "expression", model=ExpressionRow, body=ExpressionRequest, change=ExpressionChange,
    answer=ExpressionPolicy, save=_save_expression,
    summary="An expression policy's name and expression: both (PUT) or those sent (PATCH).")


def _page(model: type[Policy], query: PolicyQuery):
    keys = sa.select(model.id)
    if query.name:
        keys = keys.where(model.name == query.name)
    order = (model.name, model.id)
    page = page_of(keys, order, query, entities(model, order))
    counts = bound_to_counts([policy.id for policy in page.rows])
    return page_of_results(page, [policy_to_dict(policy, counts.get(policy.id, 0))
                                  for policy in page.rows])


def bound_to_counts(policy_ids: list[int]) -> dict[int, int]:
    """How many bindings use each policy, in one query for a page."""
    return dict(db.session.execute(
        sa.select(PolicyBinding.policy_id, sa.func.count())
        .where(PolicyBinding.policy_id.in_(policy_ids)).group_by(PolicyBinding.policy_id)).all())
