"""Who an event is attributed to when no request says so (CLI commands, jobs), and overrides."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

SYSTEM_USER: dict[str, Any] = {"username": "system", "email": "", "is_system": True}

_source: ContextVar[str | None] = ContextVar("herald_event_source", default=None)
_actor: ContextVar[Any] = ContextVar("herald_event_actor", default=None)


@contextmanager
def acting_as(user: Any = None, *, source: str | None = None) -> Iterator[None]:
    """Attribute events in this block to `user` (a User or a user dict) and/or a `source`
    such as `cli:bootstrap` or `job:retention_cleanup`."""
    user_token = _actor.set(user) if user is not None else None
    source_token = _source.set(source) if source is not None else None
    try:
        yield
    finally:
        if user_token is not None:
            _actor.reset(user_token)
        if source_token is not None:
            _source.reset(source_token)


def current_actor() -> Any:
    return _actor.get()


def current_source() -> str | None:
    return _source.get()
