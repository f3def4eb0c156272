"""Events as CSV or JSON Lines, produced in chunks with constant memory.

Both the streamed download and the background job call `export_chunks`, so a file and a
download of the same filter are byte for byte the same. Rows are read newest first in keyset
pages of CHUNK_ROWS ((created, event_uuid) below the last row seen, the index order every
filter ends in), each page in a short transaction of its own: memory stays flat whatever the
size, and a slow browser never holds a database snapshot open for the whole download.

CSV lines are built whole by the database (one SQL expression per line, no ORM objects, no
csv module) because that is the path that must run at 100,000 rows a second; JSON Lines goes
through
`event_to_dict`, the API's own serializer, so a SIEM gets exactly what the API would give it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.events.errors import BadQuery
from webapp.events.filters import EventFilter
from webapp.events.queries import NEWEST_FIRST
from webapp.events.serialize import event_to_dict
from webapp.models import Event, ExportFormat

CHUNK_ROWS = 5_000
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
                  progress: Progress | None = None) -> Iterator[str]:
    """The export as text pieces (about CHUNK_ROWS rows each). `filters` should be pinned."""
    encode = _csv_chunks if fmt == ExportFormat.CSV else _jsonl_chunks
    done = 0
    if fmt == ExportFormat.CSV:
        yield (BOM if excel else "") + ",".join(COLUMNS) + CRLF
    for text, rows in encode(filters):
        done += rows
        if progress is not None:
            progress(done)
        yield text


def _csv_chunks(filters: EventFilter) -> Iterator[tuple[str, int]]:
    line = _csv_line(db.session.get_bind(mapper=Event.__mapper__).dialect.name)
    for lines in _pages(filters, line, _key_of_line):
        text = CRLF.join(lines) + CRLF
        yield _FORMULA_CELL.sub(",\"'", text), len(lines)


def _jsonl_chunks(filters: EventFilter) -> Iterator[tuple[str, int]]:
    for events in _pages(filters, Event, lambda event: (event.created, event.event_uuid)):
        lines = [json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
                 for event in events]
        yield "\n".join(lines) + "\n", len(events)


def _csv_line(dialect: str) -> sa.ColumnElement[str]:
    """One CSV line per event, built by the database: Python's csv module walks every
    character of a 500-byte context through its state machine, which alone would cap an
    export far below 100,000 rows a second. pk and created come out formatted as
    event_to_dict writes them; every other cell is quoted (RFC 4180); NULL is an empty cell."""
    cells = [sa.func.coalesce(sa.type_coerce(cell, sa.String), "") for cell in (
        Event.action, Event.app, Event.username, sa.cast(Event.user_pk, sa.Text),
        Event.user["email"].as_string(), Event.client_ip, Event.country, Event.city,
        Event.context[("asn", "asn")].as_string(), Event.context["message"].as_string(),
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


#: A quoted cell whose text starts like a formula (=, +, -, @, tab, carriage return). Exact on
#: the lines above: inside a quoted cell every `"` is doubled, so `,"` followed by anything but
#: another `"` only ever occurs where a cell starts (pk and created, unquoted, never match).
_FORMULA_CELL = re.compile(',"(?=[' + re.escape("".join(FORMULA_START)) + '])')


def _key_of_line(line: str) -> tuple[datetime, uuid.UUID]:
    """The keyset key from a CSV line's first two cells, as the database stores it."""
    created = line[37:line.index(",", 37)]
    return datetime.fromisoformat(created.replace("Z", "+00:00")), uuid.UUID(line[:36])


def _pages(filters: EventFilter, column: Any,
           key_of: Callable[[Any], tuple[datetime, uuid.UUID]]) -> Iterator[list[Any]]:
    """Keyset pages newest first, as lists of `column` values. The transaction ends once the
    caller has used a page (ORM rows expire at a commit), before the next page is read. Plain
    columns skip the ORM's row handling (a few microseconds a row)."""
    conditions = filters.conditions()  # once: a search asks the index while building it
    key = sa.tuple_(Event.created, Event.event_uuid)
    last: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = sa.select(column).where(*conditions)
        if last is not None:
            query = query.where(key < last)
        query = query.order_by(*NEWEST_FIRST).limit(CHUNK_ROWS)
        if isinstance(column, type):
            page = list(db.session.scalars(query))
        else:
            page = list(db.session.connection().execute(query).scalars())
        if page:
            yield page
        db.session.commit()
        if len(page) < CHUNK_ROWS:
            return
        last = key_of(page[-1])
