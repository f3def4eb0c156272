"""authentik's page-number pagination, answered without scanning rows that are skipped.

The response is `{"pagination": {next, previous, count, current, total_pages, start_index,
end_index}, "results": [...]}` with `next`/`previous` page numbers and 0 for none, as the
Elastic Agent reads it. A page past the end is 200 with no results and `next` 0 (DRF would
answer 404, which leaves the agent retrying that page for ever when events expire mid-walk).

Deep pages, three ways:
- A walk (page N+1 right after page N with the same parameters, which is what the Elastic
  Agent does) resumes where page N ended: its last key is remembered for a while (a keyset
  cursor, for orderings on non-null columns), so every page of a walk costs what page 1 costs.
  The cursors are kept in the database (ApiPageCursor), so page N+1 resumes whichever gunicorn
  worker it reaches.
  If events arrive during the walk the walk neither repeats nor skips any, unlike OFFSET.
  The walk also carries its count: an exact count(*) reads every index entry of the filter
  (a million on PostgreSQL is a third of a second), so it is counted on the walk's first
  page only, and a later page that comes up short ends the walk whatever the count said.
- Any other page of the whole event list, in time order, on PostgreSQL is found through the
  exact per-hour counts that triggers keep (webapp/events/positions.py): hours are added up
  to the one holding the page's first row, and only that hour's entries are skipped. At ten
  million events a page jumped to anywhere answers about as fast as page 1.
- Any other page (a filtered list, another ordering, SQLite) chooses its primary keys by
  OFFSET over the ordering's index only (never the rows and their JSON) and then fetches the
  rows by key: page 900 of a million events skips 899,000 index entries, not 899,000 rows.
  That cost still grows with the page number, which a million events keeps well inside the
  targets (a jumped page at most 0.15 s).

Counts at scale: the whole event list on PostgreSQL is counted from the hour counts (exact, in
a millisecond). Any other list the planner expects to exceed API_EXACT_COUNT_LIMIT rows
(default a million) on PostgreSQL reports the planner's estimate instead of counting: an exact
count of ten million events takes about a second on every page, the estimate a millisecond,
and the Elastic Agent reads only `next` (GitHub and Sentry cap or estimate big counts too).
`next` never trusts an estimate: a full page always offers a next one, and a short page ends
the list and makes the count exact.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from webapp.core.db_types import utcnow
from webapp.core.explain import planned_rows
from webapp.core.extensions import db
from webapp.core.upsert import dialect_insert
from webapp.models import ApiPageCursor

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20
#: The agent asks for the next page at once; a walk that stalls longer starts over (OFFSET).
CURSOR_AGE = timedelta(minutes=10)


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


class Positions(Protocol):
    """A list that can say how long it is, and where its row N is, without counting rows."""

    def count(self) -> int: ...

    def keys_from(self, start: int) -> sa.Select:
        """The primary keys from row start+1 on, in the list's order."""


def page_of(keys: sa.Select, order_by: Sequence[sa.ColumnElement[Any]], query: PageQuery,
            fetch: Fetch, keyset: Keyset | None = None,
            positions: Positions | None = None) -> Page:
    """One page: `keys` selects the primary key (one column, filters applied, unordered) and
    `fetch` loads the rows for the page's keys. `keyset`, when the ordering allows one, lets
    a walk resume after the previous page's last row; `positions`, when the list has them,
    answer its count and any other page (webapp/events/positions.py)."""
    start = (query.page - 1) * query.page_size
    walk = _walk_key(keys, query)
    resume = _cursor(walk, query.page, keyset) if keyset else None
    count = resume.count if resume else _count(keys, positions)
    if start >= count.value and count.exact and not resume:
        return Page([], pagination_for(count.value, query.page, query.page_size, 0))
    if resume:
        chosen = keys.where(keyset.after(resume.values)).order_by(*order_by)
    elif positions:
        chosen = positions.keys_from(start)
    else:
        chosen = keys.offset(start).order_by(*order_by)
    rows = fetch(chosen.limit(query.page_size).scalar_subquery())
    settled = count.settled(start, len(rows), query.page_size)
    if keyset and len(rows) == query.page_size:
        _remember(walk, query.page + 1, _Resume(keyset.values_of(rows[-1]), settled))
    return Page(rows, pagination_for(settled.value, query.page, query.page_size, len(rows)))


@dataclass(frozen=True)
class _Count:
    """A list's count: exact (counted, perhaps on a walk's first page) or the planner's."""

    value: int
    exact: bool

    def settled(self, start: int, shown: int, size: int) -> _Count:
        """Corrected by what a page found: a short page is the end of the list; after a full
        one an estimate still promises at least one more row, so `next` is never 0 early."""
        if shown < size:
            return _Count(start + shown, True)
        return _Count(max(self.value, start + shown + (0 if self.exact else 1)), self.exact)


def _count(keys: sa.Select, positions: Positions | None) -> _Count:
    if positions:
        return _Count(positions.count(), True)
    limit = current_app.config["API_EXACT_COUNT_LIMIT"]
    if limit:
        planned = planned_rows(keys)
        if planned is not None and planned > limit:
            return _Count(planned, False)
    exact = db.session.scalar(keys.with_only_columns(sa.func.count(),
                                                     maintain_column_froms=True)) or 0
    return _Count(exact, True)


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
    count: _Count


def _walk_key(keys: sa.Select, query: PageQuery) -> str:
    """What makes pages one walk: the list and every parameter but the page number."""
    return f"{keys.selected_columns[0].table.name}\n{query.model_dump_json(exclude={'page'})}"


def _cursor_id(walk: str, page: int) -> str:
    return hashlib.sha256(f"{walk}\n{page}".encode()).hexdigest()


def _cursor(walk: str, page: int, keyset: Keyset) -> _Resume | None:
    found = db.session.get(ApiPageCursor, _cursor_id(walk, page))
    if found is None or utcnow() - found.saved_at > CURSOR_AGE:
        return None
    values = tuple(_decoded(column, text)
                   for column, text in zip(keyset.columns, json.loads(found.after), strict=True))
    return _Resume(values, _Count(found.count, found.count_exact))


def _remember(walk: str, page: int, resume: _Resume) -> None:
    """Store where page `page` starts (replacing an older cursor for it) and drop the stale
    ones; committed at once, so another worker can resume before this page is even sent."""
    now = utcnow()
    db.session.execute(sa.delete(ApiPageCursor).where(ApiPageCursor.saved_at < now - CURSOR_AGE))
    cursor = {"after": json.dumps([_encoded(value) for value in resume.values]),
              "count": resume.count.value, "count_exact": resume.count.exact, "saved_at": now}
    db.session.execute(dialect_insert(ApiPageCursor).values(walk=_cursor_id(walk, page), **cursor)
                       .on_conflict_do_update(index_elements=["walk"], set_=cursor))
    db.session.commit()


def _encoded(value: Any) -> Any:
    """A keyset value as JSON: times as ISO text, ids as their text, the rest as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _decoded(column: Any, value: Any) -> Any:
    kind = column.type.python_type
    if kind is datetime:
        return datetime.fromisoformat(value)
    return uuid.UUID(value) if kind is uuid.UUID else value


def page_response(page: Page, serialize: Callable[[Any], dict[str, Any]]):
    """The page as authentik's JSON body, each row written by `serialize`."""
    return page_of_results(page, [serialize(row) for row in page.rows])


def page_of_results(page: Page, results: list[dict[str, Any]]):
    """The page as authentik's JSON body, for lists that serialize their rows together."""
    from webapp.api.spec import json_response

    return json_response({"pagination": page.pagination.model_dump(), "results": results,
                          "autocomplete": {}})
