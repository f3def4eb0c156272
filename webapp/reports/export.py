"""Events as CSV or JSON Lines, produced in chunks with constant memory.

Both the streamed download and the background job call `export_chunks`, so a file and a
download of the same filter are byte for byte the same. Rows are read newest first in keyset
pages of CHUNK_ROWS ((created, event_uuid) below the last row seen, the index order every
filter ends in), each page in a short transaction of its own: memory stays flat whatever the
size, and a slow browser never holds a database snapshot open for the whole download.

Finding where each page ends is cheap (an index walk of CHUNK_ROWS keys); building its lines is
not. So the boundaries are found one after another, while builder threads, each on its own
connection, build the pages between them at once, on as many cores, and hand them over in order.

CSV lines are built whole by the database (one SQL expression per line, no ORM objects, no
csv module) and joined there into one UTF-8 value per page, because that is the path that must
run at 100,000 rows a second; JSON Lines goes through `event_to_dict`, the API's own
serializer, so a SIEM gets exactly what the API would give it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects.postgresql import aggregate_order_by

from webapp.core.extensions import db
from webapp.events.errors import BadQuery
from webapp.events.filters import EventFilter
from webapp.events.queries import NEWEST_FIRST
from webapp.events.serialize import event_to_dict
from webapp.models import Event, ExportFormat

CHUNK_ROWS = 5_000
#: Pages built at once, each by one thread on its own connection. PostgreSQL builds them in
#: server processes of their own, so two use two cores (a third gained 10 % when reading from
#: the disk at 10M events but took the export's memory past 200 MB). SQLite builds them in
#: this process, and its allocator takes one process-wide lock per allocation: measured on 1M
#: events, a second builder doubled the CPU time and gained nothing, so SQLite's pages are
#: built one at a time (still in a thread, while the response sends the page before).
BUILDERS = {"postgresql": 2, "sqlite": 1}
COLUMNS = ("pk", "created", "action", "app", "username", "user_pk", "email", "client_ip",
           "country", "city", "asn", "message", "context")
#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection"); such a cell
#: gets a `'` in front, as OWASP advises, so `=HYPERLINK(...)` shows as text and never runs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CRLF = "\r\n"
MEDIA_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8",
               ExportFormat.JSONL: "application/x-ndjson; charset=utf-8"}

Progress = Callable[[int], None]


def parse_format(text: str) -> ExportFormat:
    try:
        return ExportFormat(text.strip().lower())
    except ValueError:
        raise BadQuery("Choose the export format: csv or jsonl.") from None


def wants_excel(text: str) -> bool:
    """The "for Excel" checkbox: ticked sends a value, unticked sends nothing."""
    return text.strip().lower() not in ("", "0", "false", "off", "no")


def pin(filters: EventFilter, anchor: datetime) -> EventFilter:
    """The filter as it stood at `anchor`: a relative period becomes a fixed window, and
    nothing newer than `anchor` is included, so a download, a job that runs later and its
    count all see the same events (and an export never includes its own audit event)."""
    since, until = filters.window(anchor)
    until = anchor if until is None or until > anchor else until
    return dataclasses.replace(filters, period="", since=since, until=until)


def export_chunks(filters: EventFilter, fmt: ExportFormat, *, excel: bool = False,
                  progress: Progress | None = None) -> Iterator[bytes]:
    """The export as UTF-8 pieces (about CHUNK_ROWS rows each). `filters` should be pinned."""
    read_page = _csv_page if fmt == ExportFormat.CSV else _jsonl_page
    done = 0
    if fmt == ExportFormat.CSV:
        yield ((BOM if excel else "") + ",".join(COLUMNS) + CRLF).encode()
    for data, rows in _pages(filters, read_page):
        done += rows
        if progress is not None:
            progress(done)
        yield data


#: One page read: its text and how many rows it holds.
Page = tuple[bytes, int]
#: The keyset key of a row: (created, event_uuid).
Key = tuple[datetime, uuid.UUID]


def _csv_page(where: list[sa.ColumnElement[bool]]) -> Page:
    """A whole page of CSV lines joined by the database and handed over as one value: one
    value per page instead of a str object per row, no Python join."""
    dialect = db.session.get_bind(mapper=Event.__mapper__).dialect.name
    page = sa.select(_csv_line(dialect).label("line"), *_order_keys(dialect)).where(*where)
    if dialect != "postgresql":
        page = page.order_by(*NEWEST_FIRST)
    rows, data = db.session.connection().execute(sa.select(
        sa.func.count(), _joined_lines(dialect, page.subquery()))).one()
    if not rows:
        return b"", 0
    if isinstance(data, str):  # PostgreSQL's page comes as text (see _joined_lines)
        data = data.encode()
    return _FORMULA_CELL.sub(b",\"'", data), rows


def _jsonl_page(where: list[sa.ColumnElement[bool]]) -> Page:
    events = list(db.session.scalars(sa.select(Event).where(*where).order_by(*NEWEST_FIRST)))
    lines = [json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
             for event in events]
    return ("".join(line + "\n" for line in lines)).encode(), len(events)


def _csv_line(dialect: str) -> sa.ColumnElement[str]:
    """One CSV line per event, built by the database: Python's csv module walks every
    character of a 500-byte context through its state machine, which alone would cap an
    export far below 100,000 rows a second. pk and created come out formatted as
    event_to_dict writes them; every other cell is quoted (RFC 4180); NULL is an empty cell.
    Email, ASN and message come from the event's copies of them (webapp.events.columns), not
    from its JSON, which would be parsed again for every row."""
    cells = [sa.func.coalesce(sa.type_coerce(cell, sa.String), "") for cell in (
        Event.action, Event.app, Event.username, sa.cast(Event.user_pk, sa.Text), Event.email,
        Event.client_ip, Event.country, Event.city, Event.asn, Event.message,
        sa.cast(Event.context, sa.Text))]
    if dialect == "postgresql":
        line = sa.cast(Event.event_uuid, sa.Text) + "," + sa.func.to_char(
            sa.func.timezone("UTC", Event.created), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        for cell in cells:
            line = line + ',"' + sa.func.replace(cell, '"', '""') + '"'
        return line
    # SQLite keeps 32 hex digits and "YYYY-MM-DD HH:MM:SS.ffffff" (UTC). One printf builds
    # the line in one allocation (a chain of || copies it once per cell); %w doubles quotes.
    hex_id = sa.type_coerce(Event.event_uuid, sa.String)
    pk = [sa.func.substr(hex_id, start, length)
          for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    created = sa.func.replace(sa.type_coerce(Event.created, sa.String), " ", "T")
    return sa.func.printf("%s-%s-%s-%s-%s,%sZ" + ',"%w"' * len(cells), *pk, created, *cells,
                          type_=sa.String)


def _order_keys(dialect: str) -> list[sa.ColumnElement]:
    """What the joined lines are ordered by: PostgreSQL's string_agg is told the order, so
    its page's rows come unordered and the planner may read the table forwards (a page read
    backwards along the created index defeats the kernel's read-ahead: at 10M events, more
    than the page cache holds, it took 147 ms instead of 30 ms); SQLite's group_concat takes
    its subquery's order (see _joined_lines)."""
    if dialect == "postgresql":
        return [Event.created.label("created"), Event.event_uuid.label("event_uuid")]
    return []


def _joined_lines(dialect: str, page: sa.Subquery) -> sa.ColumnElement[str | bytes]:
    """The page's lines newest first, CRLF between them. PostgreSQL is told the order; SQLite
    (before 3.44, no ORDER BY inside an aggregate) reads its subquery as a co-routine that
    hands rows over in the subquery's order.

    SQLite hands a BLOB over as it is. PostgreSQL's stays text, encoded once in Python: as
    bytea it would travel hex-encoded (the text protocol), twice the size, and be unescaped
    by the driver, which took 23 ms of a 5,000-row page's 59."""
    if dialect == "postgresql":
        return sa.func.string_agg(page.c.line, aggregate_order_by(
            sa.literal(CRLF), page.c.created.desc(), page.c.event_uuid.desc())) + CRLF
    return sa.cast(sa.func.group_concat(page.c.line, CRLF) + CRLF, sa.LargeBinary)


#: A quoted cell whose text starts like a formula (=, +, -, @, tab, carriage return). Exact on
#: the lines above: inside a quoted cell every `"` is doubled, so `,"` followed by anything but
#: another `"` only ever occurs where a cell starts (pk and created, unquoted, never match).
_FORMULA_CELL = re.compile(b',"(?=[' + re.escape("".join(FORMULA_START).encode()) + b'])')


def _pages(filters: EventFilter, read_page: Callable[[list[sa.ColumnElement[bool]]], Page]
           ) -> Iterator[tuple[bytes, int]]:
    """Pages newest first: their bounds found here in order, their text built by `read_page`
    in builder threads (BUILDERS), each page in a transaction of its own, yielded in order."""
    conditions = filters.conditions()  # once: a search asks the index while building it
    app = current_app._get_current_object()
    building: deque[Future[Page]] = deque()
    workers = BUILDERS.get(db.engine.dialect.name, 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="herald-export") as builders:
        try:
            for bounds in _page_bounds(conditions):
                building.append(builders.submit(_build, app, read_page, bounds + conditions))
                if len(building) > workers:
                    yield from _finished(building.popleft())
            while building:
                yield from _finished(building.popleft())
        finally:  # a download given up: drop the pages not yet started
            for page in building:
                page.cancel()


def _page_bounds(conditions: list[sa.ColumnElement[bool]]
                 ) -> Iterator[list[sa.ColumnElement[bool]]]:
    """Each page's keyset bounds, newest page first: from below the previous page's last key
    down to the key CHUNK_ROWS rows on (an index walk; only the last page has no lower bound).

    The key comes first in the WHERE: SQLite bounds its index scan by the first upper bound on
    `created` it meets, and the pinned filter's own `created < anchor` would make every step
    walk again over all the rows before it.

    Each key bound comes with the same bound on `created` alone, which it implies: PostgreSQL
    estimates a row comparison like an open range, so a page between two of them in the middle
    of 10M events looked like 2.5M rows, and got a scan of the whole table (12.7 s) or JIT
    compiling (160 ms); two plain bounds on one column it reads as the narrow range they are.
    SQLite plans the row comparison well either way (1M events: 116,000-135,000 rows/s with
    and without, within one run's noise)."""
    key = sa.tuple_(Event.created, Event.event_uuid)
    upper: Key | None = None
    while True:
        above = [key < upper, Event.created <= upper[0]] if upper is not None else []
        lower = db.session.execute(sa.select(Event.created, Event.event_uuid)
                                   .where(*above, *conditions).order_by(*NEWEST_FIRST)
                                   .offset(CHUNK_ROWS - 1).limit(1)).first()
        db.session.commit()
        if lower is None:
            yield above
            return
        yield [*above, key >= tuple(lower), Event.created >= lower[0]]
        upper = tuple(lower)


def _build(app: Flask, read_page: Callable[[list[sa.ColumnElement[bool]]], Page],
           where: list[sa.ColumnElement[bool]]) -> Page:
    with app.app_context():  # its own session and connection, returned when the page is built
        page = read_page(where)
        db.session.commit()
        return page


def _finished(page: Future[Page]) -> Iterator[tuple[bytes, int]]:
    data, rows = page.result()
    if rows:
        yield data, rows
