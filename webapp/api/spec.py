"""The API blueprint, the spectree instance that validates and documents it, and JSON errors.

Errors are DRF-shaped, as authentik clients expect: `{field: [messages]}` for bad input,
`{"detail": "..."}` otherwise (webapp/web/errors.py answers JSON for everything under /api/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, get_origin

from flask import Blueprint, Response, abort, current_app, request
from pydantic import BaseModel
from pydantic_core import to_json
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin

bp = Blueprint("api", __name__, url_prefix="/api/v3")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
Body = TypeVar("Body", bound=BaseModel)
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: pydantic's wording -> DRF's, which authentik clients show to their users as they are.
DRF_MESSAGES = {"missing": "This field is required."}
#: drf-spectacular's operation suffix per method (a GET answering many objects is `list`).
METHOD_ACTIONS = {"GET": "retrieve", "POST": "create", "PUT": "update",
                  "PATCH": "partial_update", "DELETE": "destroy"}


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """pydantic's error list as DRF's `{field: [messages]}`; a nested field is dotted."""
    found: dict[str, list[str]] = {}
    for error in errors:
        field = ".".join(str(part) for part in error["loc"]) or "non_field_errors"
        found.setdefault(field, []).append(DRF_MESSAGES.get(error["type"], error["msg"]))
    return found


def _reject_invalid(req: Any, resp: Any, error: Exception | None, instance: Any,
                    adapter: Any) -> None:
    """spectree's before-hook: a request that fails validation gets a 400 with its fields."""
    if error is not None:
        abort(json_response(field_errors(adapter.validation_errors(error)), 400))


class DocumentedResponses(FlaskPlugin):
    """Operations are named as authentik names them, requests are validated, and responses
    are only documented. They are built by Herald's serializers, which the contract tests
    and schemathesis check against the schema, and re-validating a 1,000-event page on every
    request would cost about 115 ms (a third of the page's budget) to find nothing."""

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        return super().validate_response(resp, resp_model, True, force_resp_serialize)

    def get_func_operation_id(self, func: Callable, path: str, method: str) -> str:
        """authentik's operation ids (drf-spectacular's rule: the path's words without its
        parameters, then the action), e.g. `events_events_list`, `core_users_partial_update`;
        generated clients name their methods after them."""
        words = [word for word in path.removeprefix(bp.url_prefix).split("/")
                 if word and not word.startswith("{")]
        action = ("list" if method == "GET" and self._answers_many(func)
                  else METHOD_ACTIONS[method])
        return "_".join([*words, action])

    def _answers_many(self, func: Callable) -> bool:
        """Whether the view's 200 is a page of objects or a JSON array."""
        metadata = self.spectree.get_function_metadata(func)
        model = metadata.resp.code_models.get("HTTP_200") if metadata and metadata.resp else None
        fields = getattr(model, "model_fields", {})
        root = fields.get("root")
        return "results" in fields or (root is not None and get_origin(root.annotation) is list)


api = SpecTree(
    "flask",
    backend=DocumentedResponses,
    title="Herald API",
    version="3",
    mode="strict",  # only decorated views are documented; the UI's routes are not API
    path="api/v3/schema",
    validation_error_status=400,
    before=_reject_invalid,
    naming_strategy=lambda model: model.__name__,
    page_templates={},  # the browser is Herald's own page (webapp/api/schema.py)
    security_schemes=[SecurityScheme(name="authentik", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer",
        description="An API token from Directory > Tokens: `Authorization: Bearer <key>`",
    ))],
    security={"authentik": []},
)


def json_response(payload: Any, status: int = 200) -> Response:
    """JSON bytes from pydantic_core (five times quicker than json.dumps on event pages)."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    return current_app.response_class(to_json(payload), status=status,
                                      mimetype="application/json")


@bp.before_request
def _refuse_malformed_json() -> None:
    """A body that does not parse is refused with DRF's words rather than read as `{}`.
    Parsing with force=True also understands JSON sent without a Content-Type; Flask caches
    the result for spectree. Form posts are left to `json_body`, after the view's lookup, so
    an unknown object is a 404 whatever was sent (as in DRF)."""
    if (request.method in BODY_METHODS and request.mimetype not in FORM_MIMETYPES
            and request.get_data(cache=True)
            and request.get_json(force=True, silent=True) is None):
        abort(json_response({"detail": "JSON parse error: the body is not valid JSON."}, 400))


def add_view(view: Callable[..., Any], endpoint: str, verb: str, rule: str, *, resp: Any,
             tags: tuple[str, ...], body: type[BaseModel] | None = None,
             guard: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None) -> None:
    """Register a view made at start-up (webapp/api/updates.py, object_views.py) as if it had
    been written out: spectree names an undocumented operation after the function and reads
    the body model from its `json` annotation, so both are set here before it validates the
    view. `guard` is an access decorator for views that are not admin-only."""
    view.__name__ = view.__qualname__ = endpoint
    view.__annotations__ = {"json": body} if body else {}
    validated = api.validate(resp=resp, tags=tags)(view)
    bp.add_url_rule(rule, endpoint=endpoint, view_func=guard(validated) if guard else validated,
                    methods=[verb])


def json_body(model: Body | None) -> Body:
    """The validated JSON body; spectree hands None for a form post, which is a 400."""
    if model is None:
        abort(json_response({"detail": "Send the body as JSON (Content-Type: "
                                       "application/json)."}, 400))
    return model
