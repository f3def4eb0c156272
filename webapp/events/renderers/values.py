"""Turning whatever an event's JSON holds into bounded, display-ready text and trees.

Context comes from anyone (the ingest API, other apps, old versions of Herald), so a value
may be of any type, nested without end or megabytes long. Everything a details partial shows
passes through here first: templates then only print strings and walk small trees, and one
odd value can neither break the page nor make it huge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 500  # one value in a table cell
MAX_DEPTH = 4  # nesting shown as nested lists; deeper levels are shown as JSON text
MAX_ITEMS = 50  # keys or list items shown per level


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """The text, or its first `limit` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"


def as_json(value: Any, limit: int = MAX_TEXT) -> str:
    """Compact JSON for a value of any shape (a string keeps its quotes: diffs need them)."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):  # keys of mixed types, circular data from a live object
        text = repr(value)
    return cut(text, limit)


def as_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A scalar as a person reads it (strings without quotes); None or "" for nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return cut(value, limit)
    return as_json(value, limit)


def string(value: Any, limit: int = MAX_TEXT) -> str | None:
    """Only a real, non-empty string (or number) counts; containers and booleans do not."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return as_text(value, limit)


def mapping(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Node:
    """A value ready to show: a scalar `text`, or `items` of a mapping or list (keys of a
    list are its positions), with `hidden` counting the items left out."""

    text: str | None = None
    items: list[tuple[str, Node]] = field(default_factory=list)
    is_list: bool = False
    hidden: int = 0

    @property
    def is_leaf(self) -> bool:
        return self.text is not None or not self.items


def tree(value: Any, depth: int = 0) -> Node:
    """A bounded tree of the value: at most MAX_ITEMS per level, MAX_DEPTH levels."""
    if isinstance(value, dict | list) and value and depth >= MAX_DEPTH:
        return Node(text=as_json(value))
    if isinstance(value, dict):
        pairs = sorted(value.items(), key=lambda pair: str(pair[0]))  # as JSONB would
        items = [(cut(str(key), 100), tree(item, depth + 1)) for key, item in pairs[:MAX_ITEMS]]
        return Node(items=items, hidden=max(0, len(pairs) - MAX_ITEMS),
                    text=None if items else "{}")
    if isinstance(value, list):
        items = [(str(index), tree(item, depth + 1))
                 for index, item in enumerate(value[:MAX_ITEMS])]
        return Node(items=items, is_list=True, hidden=max(0, len(value) - MAX_ITEMS),
                    text=None if items else "[]")
    return Node(text=as_text(value) if value not in (None, "") else as_json(value))
