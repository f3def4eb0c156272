"""PUT and PATCH of one object, declared once per resource.

authentik answers both verbs on `<path><pk>/`: PUT validates the whole object (its request
model), PATCH any subset of its fields (its "patched" model), and both save what was sent.
Spectree takes a view's body model from that view's own annotations, so each verb needs a view
of its own; the pair used to be written out by hand for every resource and policy type, two
decorated shells around one body. `put_and_patch` makes the two views from that body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from spectree import Response

from webapp.api.schemas import ERRORS
from webapp.api.spec import add_view

#: The shared body: the object's key (from the path) and the validated request (None for a form
#: post: the body finds the object first and then calls `json_body`, so an unknown key is a
#: 404 whatever was sent, as in DRF); answers the response.
Update = Callable[[Any, Any], Any]
Guard = Callable[[Callable[..., Any]], Callable[..., Any]]


def put_and_patch(path: str, name: str, *, full: type[BaseModel], partial: type[BaseModel],
                  answer: type[BaseModel], update: Update, tags: tuple[str, ...],
                  key: str = "<uuid:pk>", guard: Guard | None = None) -> None:
    """Register `update_<name>` (PUT, body `full`) and `partial_update_<name>` (PATCH, body
    `partial`) on `<path><key>/`, both answering `answer` through `update`, which gets the
    key's one path variable and the body. `guard` is an access decorator for views that are
    not admin-only (e.g. `for_any_user`)."""
    for verb, model, endpoint in (("PUT", full, f"update_{name}"),
                                  ("PATCH", partial, f"partial_update_{name}")):
        add_view(_view(update), endpoint, verb, f"{path}{key}/", body=model, guard=guard,
                 resp=Response(HTTP_200=answer, **ERRORS), tags=tags)


def _view(update: Update) -> Callable[..., Any]:
    def view(json: Any, **path: Any) -> Any:
        (key,) = path.values()
        return update(key, json)

    view.__doc__ = update.__doc__
    return view
