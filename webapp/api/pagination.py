"""authentik's page-number pagination, answered without scanning rows that are skipped.

The response is `{"pagination": {next, previous, count, current, total_pages, start_index,
end_index}, "results": [...]}` with `next`/`previous` page numbers and 0 for none, as the
Elastic Agent reads it. A page past the end is 200 with no results and `next` 0 (DRF would
answer 404, which leaves the agent retrying that page for ever when events expire mid-walk).

Deep pages, two ways:
- A walk (page N+1 right after page N with the same parameters, which is what the Elastic
  Agent does) resumes where page N ended: its last key is remembered for a while (a keyset
  cursor, for orderings on non-null columns), so every page of a walk costs what page 1 costs.
  If events arrive during the walk the walk neither repeats nor skips any, unlike OFFSET.
  The walk also carries its count: an exact count(*) reads every index entry of the filter
  (a million on PostgreSQL is a third of a second), so it is counted on the walk's first
  page only, and a later page that comes up short ends the walk whatever the count said.
- Any other page chooses its primary keys by OFFSET over the ordering's index only (never the
  rows and their JSON) and then fetches the rows by key: page 900 of a million events skips
  899,000 index entries, not 899,000 rows.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from webapp.core.extensions import db

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20
CURSORS_KEPT = 4096  # walks in progress at once, a few pages each
CURSOR_SECONDS = 600.0  # the agent asks for the next page at once; a stale walk starts over
_CURSORS_KEY = "herald.api.page_cursors"


class PageQuery(BaseModel):
    """Query parameters of every list; unknown parameters are ignored, as DRF does."""

    model_config = ConfigDict(extra="ignore")
    page: int = Field(1, ge=1, le=10_000_000, description="1-based page number")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE,
                           description=f"Items per page, at most {MAX_PAGE_SIZE}")


class Pagination(BaseModel):
    next: int
    previous: int
    count: int
    current: int
    total_pages: int
    start_index: int
    end_index: int


class Paginated(BaseModel):
    """What every list answers besides its `results` (each list adds those, typed)."""

    pagination: Pagination
    autocomplete: dict[str, Any] = Field(
        description="authentik's search-bar suggestions; always empty in Herald")


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    pagination: Pagination


def pagination_for(count: int, page: int, size: int, shown: int) -> Pagination:
    """Django's paginator figures: one (empty) page when there is nothing."""
    total_pages = max(1, -(-count // size))
    start = (page - 1) * size
    return Pagination(
        next=page + 1 if page < total_pages else 0,
        previous=min(page - 1, total_pages),
        count=count,
        current=page,
        total_pages=total_pages,
        start_index=start + 1 if shown else 0,
        end_index=start + shown,
    )


@dataclass(frozen=True)
class Keyset:
    """An ordering on non-null columns, all one way, that a walk can resume after a row."""

    columns: tuple[Any, ...]
    descending: bool

    def after(self, values: tuple[Any, ...]) -> sa.ColumnElement[bool]:
        row = sa.tuple_(*self.columns)
        return row < values if self.descending else row > values

    def values_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, column.key) for column in self.columns)


#: Fetches a page's rows, in order, given the subquery of their primary keys.
Fetch = Callable[[sa.ScalarSelect[Any]], Sequence[Any]]


def page_of(keys: sa.Select, order_by: Sequence[sa.ColumnElement[Any]], query: PageQuery,
            fetch: Fetch, keyset: Keyset | None = None) -> Page:
    """One page: `keys` selects the primary key (one column, filters applied, unordered) and
    `fetch` loads the rows for the page's keys. `keyset`, when the ordering allows one, lets
    a walk resume after the previous page's last row."""
    start = (query.page - 1) * query.page_size
    walk = (keys.selected_columns[0].table.name, query.model_dump_json(exclude={"page"}))
    resume = _cursor(walk, query.page) if keyset else None
    count = resume.count if resume else _count(keys)
    if start >= count:
        return Page([], pagination_for(count, query.page, query.page_size, 0))
    chosen = keys.where(keyset.after(resume.values)) if resume else keys.offset(start)
    rows = fetch(chosen.order_by(*order_by).limit(query.page_size).scalar_subquery())
    if resume:  # the count is the walk's first page's: what is left decides where it ends
        count = start + len(rows) if len(rows) < query.page_size else max(count, start + len(rows))
    if keyset and len(rows) == query.page_size:
        _remember(walk, query.page + 1, _Resume(keyset.values_of(rows[-1]), count))
    return Page(rows, pagination_for(count, query.page, query.page_size, len(rows)))


def _count(keys: sa.Select) -> int:
    return db.session.scalar(keys.with_only_columns(sa.func.count(),
                                                    maintain_column_froms=True)) or 0


def entities(entity: type, order_by: Sequence[Any], *options: Any) -> Fetch:
    """A Fetch of ORM objects (with loader options), for the small directory tables."""
    key = sa.inspect(entity).primary_key[0]

    def fetch(chosen: sa.ScalarSelect[Any]) -> Sequence[Any]:
        query = sa.select(entity).options(*options).where(key.in_(chosen)).order_by(*order_by)
        return list(db.session.scalars(query))
    return fetch


@dataclass(frozen=True)
class _Resume:
    """Where a walk's next page starts, and the count its first page found."""

    values: tuple[Any, ...]
    count: int


def _cursors() -> OrderedDict[tuple[Any, ...], tuple[float, _Resume]]:
    """This process's remembered page starts (another worker simply falls back to OFFSET)."""
    return current_app.extensions.setdefault(_CURSORS_KEY, OrderedDict())


def _cursor(walk: tuple[str, str], page: int) -> _Resume | None:
    found = _cursors().get((*walk, page))
    if found is None or time.monotonic() - found[0] > CURSOR_SECONDS:
        return None
    return found[1]


def _remember(walk: tuple[str, str], page: int, resume: _Resume) -> None:
    cursors = _cursors()
    cursors[(*walk, page)] = (time.monotonic(), resume)
    cursors.move_to_end((*walk, page))
    while len(cursors) > CURSORS_KEPT:
        cursors.popitem(last=False)


def page_response(page: Page, serialize: Callable[[Any], dict[str, Any]]):
    """The page as authentik's JSON body, each row written by `serialize`."""
    return page_of_results(page, [serialize(row) for row in page.rows])


def page_of_results(page: Page, results: list[dict[str, Any]]):
    """The page as authentik's JSON body, for lists that serialize their rows together."""
    from webapp.api.spec import json_response

    return json_response({"pagination": page.pagination.model_dump(), "results": results,
                          "autocomplete": {}})
