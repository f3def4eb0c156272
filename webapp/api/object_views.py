"""GET, POST and DELETE of one object, declared once per resource.

authentik answers `GET <path><key>/` with the object, `POST <path>` with the object it made
(201) and `DELETE <path><key>/` with 204. Every resource wrote these out as decorated shells
of the same few lines (find the object or 404, then show it or remove it); spectree documents
a view from its own name, annotations and decorator, so each verb still needs a view of its
own. These functions make them from what differs per resource, as `put_and_patch`
(webapp/api/updates.py) makes PUT and PATCH.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from pydantic import BaseModel
from spectree import Response

from webapp.api.objects import by_uuid_or_404
from webapp.api.schemas import ERRORS
from webapp.api.spec import add_view, json_response
from webapp.core.extensions import db

#: The object named by the path's one variable, or DRF's 404.
Find = Callable[[Any], Any]
#: The object as its resource's JSON shape.
Show = Callable[[Any], dict[str, Any]]
#: The validated request (None for a form post: the body calls `json_body`) -> the 201 response.
Create = Callable[[Any], Any]
UUID_KEY = "<uuid:pk>"


def object_views(path: str, name: str, *, model: type, show: Show, body: type[BaseModel],
                 answer: type[BaseModel], create: Create, tags: tuple[str, ...]) -> None:
    """`get_<name>`, `create_<name>` and `delete_<name>` for a configuration object that its
    `model`'s `uuid` column addresses (rules, transports, mappings, policies, bindings)."""
    find = partial(by_uuid_or_404, model)
    retrieve_view(path, name, find=find, show=show, answer=answer, tags=tags)
    create_view(path, name, body=body, answer=answer, create=create, tags=tags)
    destroy_view(path, name, find=find, tags=tags)


def retrieve_view(path: str, name: str, *, find: Find, show: Show, answer: type[BaseModel],
                  tags: tuple[str, ...], key: str = UUID_KEY) -> None:
    """`get_<name>`: GET `<path><key>/` answers `show` of the object `find` returns."""
    def view(**variables: Any) -> Any:
        return json_response(show(find(_key(variables))))

    add_view(view, f"get_{name}", "GET", f"{path}{key}/",
             resp=Response(HTTP_200=answer, **ERRORS), tags=tags)


def create_view(path: str, name: str, *, body: type[BaseModel], answer: type[BaseModel],
                create: Create, tags: tuple[str, ...]) -> None:
    """`create_<name>`: POST `<path>` with `body`, answered by `create` (whose docstring, if
    any, is the operation's summary, as `update`'s is for PUT and PATCH)."""
    def view(json: Any) -> Any:
        return create(json)

    view.__doc__ = create.__doc__
    add_view(view, f"create_{name}", "POST", path, body=body,
             resp=Response(HTTP_201=answer, **ERRORS), tags=tags)


def destroy_view(path: str, name: str, *, find: Find, tags: tuple[str, ...],
                 key: str = UUID_KEY, remove: Callable[[Any], Any] = db.session.delete) -> None:
    """`delete_<name>`: DELETE `<path><key>/` removes the object `find` returns, commits and
    answers 204. `remove` is the resource's own deletion where there is one (the Directory's,
    which records the audit event and may refuse)."""
    def view(**variables: Any) -> Any:
        remove(find(_key(variables)))
        db.session.commit()
        return "", 204

    add_view(view, f"delete_{name}", "DELETE", f"{path}{key}/",
             resp=Response("HTTP_204", **ERRORS), tags=tags)


def _key(variables: dict[str, Any]) -> Any:
    (key,) = variables.values()
    return key
