"""Free-text search over events with each database's own text index.

Why an index of its own: the text worth searching (action, app, username, client IP and the
string values inside the context JSON: the message, the username tried, the path, the user
agent, the affected object's name, exception text) is spread over columns and JSON, and
`LIKE '%x%'` over that reads every row. So the database keeps a word index of one bounded
text per event:

- SQLite: a contentless FTS5 table `events_search` keyed by the event's rowid, kept in step
  with `events` by triggers (insert, delete, and updates of the searched columns only, so
  re-applying retention to a million rows does not touch it). The triggers, and the fill of
  a migration, compute the text with one SQL expression (`_sqlite_text`): a contentless
  index can only forget a row when it is given exactly the text it was fed.
- PostgreSQL: a stored generated `tsvector` column computed by `events_search_vector(...)`,
  an immutable SQL function of the row, with a GIN index: PostgreSQL maintains both itself.

Both sides split text into runs of letters and digits and fold case, so `webapp.views.auth`,
`73.163.84.90` or `ahmed.hassan@example.com` are word sequences that a search finds as a
phrase, and "auth" alone finds them too.

The text a user types becomes a query here, never raw syntax: see `parse_search`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from webapp.core.explain import planned_rows
from webapp.core.extensions import db
from webapp.events.errors import BadQuery
from webapp.models import Event

__all__ = ["MAX_SEARCH_CHARS", "SearchTerms", "bulk_indexing", "create_search_index",
           "drop_search_index", "include_name", "parse_search", "search_condition"]

MAX_SEARCH_CHARS = 200
MAX_WORDS = 10
#: Each string leaf of the context, and the whole indexed text, are capped: an event's
#: searchable text stays small however large its context is.
LEAF_CHARS = 500
TEXT_CHARS = 4000
#: The shortest last word that is matched as a prefix ("al" finds "alice"); a single
#: letter would expand to a large part of the vocabulary.
MIN_PREFIX = 2
#: SQLite plans (see `_sqlite_condition`): below FEW_MATCHES matches the matches drive the
#: query; up to WINDOW, rows are checked against the list of matches; beyond, against the
#: WINDOW newest matches, and older rows one by one.
FEW_MATCHES = 2_000
WINDOW = 20_000
#: FTS5 keeps prefix indexes of 2 and 3 letters; a longer prefix is replaced by the indexed
#: words it stands for (at most this many; beyond, FTS5 merges them itself, correct but slow).
INDEXED_PREFIX = 3
MAX_COMPLETIONS = 30

FTS_TABLE = "events_search"
FTS_VOCABULARY = "events_search_words"
PG_FUNCTION = "events_search_vector"
PG_INDEX = "ix_events_search"
#: On PostgreSQL, a generated column outside the model: the ORM never reads or writes it.
PG_COLUMN = "search_vector"
#: Columns whose change changes the indexed text (the SQLite update trigger watches these).
SEARCHED_COLUMNS = ("action", "app", "username", "client_ip", "context")
#: A random id per event: never searched for as text (it has its own filter), and a million
#: distinct words would make the index much larger and every insert slower.
UNSEARCHED_PATH = ("http_request", "request_id")
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, as FTS5's unicode61 splits text


# --- the user's text -------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchTerms:
    """What to look for: every phrase must occur; the last word of the last phrase may be a
    prefix. A phrase is what the user typed without spaces (`webapp.views.auth`)."""

    phrases: tuple[tuple[str, ...], ...]
    prefix: bool

    @property
    def last_word(self) -> str:
        return self.phrases[-1][-1]

    def fts5(self, completions: Sequence[str] = ()) -> str:
        """An FTS5 MATCH expression. Quoting every phrase as a string makes FTS5's operators
        (AND, OR, NOT, NEAR, *, ^, :) plain words. `completions`: the indexed words the last
        (prefix) word stands for, matched as whole words instead of the prefix."""
        parts = [_fts5_string(phrase) for phrase in self.phrases]
        head = self.phrases[-1][:-1]
        if completions:
            parts[-1] = "(" + " OR ".join(_fts5_string((*head, word))
                                          for word in completions) + ")"
        elif self.prefix:
            parts[-1] += "*"
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """A PostgreSQL `to_tsquery` text: phrases as `<->`, the prefix as `:*`. Each word is
        quoted as a lexeme, so `&`, `|`, `!` and friends cannot appear as operators."""
        return " & ".join(f"({part})" for part in self.phrase_tsqueries())

    def phrase_tsqueries(self) -> list[str]:
        """Each phrase as a `to_tsquery` text of its own (the last with its prefix)."""
        parts = [" <-> ".join(f"'{word}'" for word in phrase) for phrase in self.phrases]
        if self.prefix:
            parts[-1] += ":*"
        return parts


def _fts5_string(words: Sequence[str]) -> str:
    return '"' + " ".join(words).replace('"', '""') + '"'


def parse_search(text: str) -> SearchTerms:
    """The words of `text`, or BadQuery saying why it cannot be searched."""
    if len(text) > MAX_SEARCH_CHARS:
        raise BadQuery(f"Search text can be at most {MAX_SEARCH_CHARS} characters long.")
    text = unicodedata.normalize("NFC", text)
    phrases = tuple(tuple(words) for chunk in text.split()
                    if (words := [word.lower() for word in _WORD.findall(chunk)]))
    if not phrases:
        raise BadQuery("Search for at least one word or number; punctuation alone "
                       "cannot be searched.")
    if sum(len(phrase) for phrase in phrases) > MAX_WORDS:
        raise BadQuery(f"Search for at most {MAX_WORDS} words at a time.")
    return SearchTerms(phrases, prefix=len(phrases[-1][-1]) >= MIN_PREFIX)


# --- the condition ---------------------------------------------------------------------------

_fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer), sa.column(FTS_TABLE))
_event_rowid = sa.column("rowid", sa.Integer, _selectable=Event.__table__)
_search_vector = sa.column(PG_COLUMN, TSVECTOR, _selectable=Event.__table__)


def search_condition(text: str) -> sa.ColumnElement[bool]:
    """Events whose text has every word of `text` (the last one as a prefix), as a condition
    to AND with other filters under the keyset order. Raises BadQuery for unusable text.

    On SQLite this asks the index once how common the words are, to hand the planner a
    condition it runs well (see `_sqlite_condition`)."""
    terms = parse_search(text)
    if db.session.get_bind(mapper=Event.__mapper__).dialect.name == "postgresql":
        return _postgresql_condition(terms)
    return _sqlite_condition(terms)


def count_matches(text: str, cap: int | None) -> int | None:
    """How many events match `text` alone, at most `cap + 1`, counted in the SQLite index
    itself (a count through `search_condition` would list every match first); None on
    PostgreSQL, whose GIN plan counts well through the condition."""
    if db.session.get_bind(mapper=Event.__mapper__).dialect.name == "postgresql":
        return None
    terms = parse_search(text)
    completions = _completions(terms)
    if completions == []:
        return 0
    matches = sa.select(_fts.c.rowid).where(
        _fts.c[FTS_TABLE].op("MATCH")(terms.fts5(completions or ())))
    if cap is not None:
        matches = matches.limit(cap + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(matches.subquery())) or 0


def _postgresql_condition(terms: SearchTerms) -> sa.ColumnElement[bool]:
    """The GIN-indexed column; PostgreSQL's statistics of its words choose between the index
    and walking the keyset order.

    With several phrases the planner multiplies their frequencies as if they were independent,
    but words typed together mostly come together ("São Paulo": 1.7 % of 10M events each and
    together, estimated at 0.02 %): it then read all 165,000 matches through the index and
    sorted them (1 to 14 s) instead of walking the newest events (a few thousand rows). So the
    index is asked only for the rarest phrase, whose estimate is sound, and the whole text is
    checked by `ts_match_vq` (what `@@` calls; as a function it is no index condition)."""
    phrases = terms.phrase_tsqueries()
    if len(phrases) == 1:
        return _search_vector.op("@@")(_tsquery(phrases[0]))
    rarest = min(phrases, key=lambda phrase: planned_rows(
        sa.select(Event.event_uuid).where(_search_vector.op("@@")(_tsquery(phrase)))) or 0)
    return sa.and_(_search_vector.op("@@")(_tsquery(rarest)),
                   sa.func.ts_match_vq(_search_vector, _tsquery(terms.tsquery())))


def _tsquery(text: str) -> sa.ColumnElement[Any]:
    return sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), text)


def _sqlite_condition(terms: SearchTerms) -> sa.ColumnElement[bool]:
    """SQLite's planner knows nothing of how many rows a MATCH gives, yet the fast plan
    depends on it. FTS5 hands out matches newest rowid first and stops early, so one cheap
    look at the newest WINDOW matches tells which case this is:

    - few matches: the matches drive the query (a rowid lookup each, then a small sort);
    - more: the page walks the keyset (or another filter's) index and keeps rows whose rowid
      is in the list of matches, which SQLite builds once;
    - very many: a list of all of them would cost more than the page. Rowids grow as events
      are inserted, so the rows of a first page are nearly always among the WINDOW newest
      matches, and only those are listed. A row inserted earlier but as recent as those (an
      event recorded with a later `created`) is looked up in the index on its own; older rows
      (a deep page, a count) are checked against the list of all matches.

    Either way the condition means exactly "matches", whatever order events arrived in.
    """
    completions = _completions(terms)
    if completions == []:
        return sa.false()  # nothing indexed starts with the last word
    match = _fts.c[FTS_TABLE].op("MATCH")(terms.fts5(completions or ()))
    matches = sa.select(_fts.c.rowid).where(match)
    newest = matches.order_by(_fts.c.rowid.desc()).limit(WINDOW).subquery()
    count, lowest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(newest.c.rowid))).one()
    if count < FEW_MATCHES:
        return _event_rowid.in_(matches)
    if count < WINDOW:
        return (_event_rowid + 0).in_(matches)  # `+ 0`: a check, never the driving index
    # CASE is opaque to the planner, and SQLite builds a list only when a row first needs it.
    since = db.session.scalar(sa.select(Event.created).where(_event_rowid == lowest))
    recent = matches.where(_fts.c.rowid >= lowest)
    return sa.case(
        (_event_rowid >= lowest, _event_rowid.in_(recent)),
        (Event.created >= since, matches.where(_fts.c.rowid == _event_rowid).exists()),
        else_=_event_rowid.in_(matches))


def _completions(terms: SearchTerms) -> list[str] | None:
    """The indexed words a prefix longer than FTS5's prefix indexes stands for (FTS5 would
    merge all their occurrences on every use), or None to let FTS5 match the prefix."""
    if not terms.prefix or len(terms.last_word) <= INDEXED_PREFIX:
        return None
    words = sa.table(FTS_VOCABULARY, sa.column("term", sa.String))
    found = db.session.scalars(
        sa.select(words.c.term).where(words.c.term >= terms.last_word,
                                      words.c.term < terms.last_word + "\U0010ffff")
        .limit(MAX_COMPLETIONS + 1)).all()
    return list(found) if len(found) <= MAX_COMPLETIONS else None


# --- the schema ------------------------------------------------------------------------------

def _sqlite_text(row: str) -> str:
    """The indexed text of one events row (`row` is `new`, `old` or `events`), in SQL."""
    context = (f"CASE WHEN json_valid({row}.context) THEN json_remove({row}.context, "
               f"'$.{UNSEARCHED_PATH[0]}.{UNSEARCHED_PATH[1]}') ELSE '{{}}' END")
    leaves = (f"(SELECT group_concat(substr(value, 1, {LEAF_CHARS}), ' ') "
              f"FROM json_tree({context}) WHERE type = 'text')")
    fields = " || ' ' || ".join(f"coalesce({row}.{name}, '')" for name in SEARCHED_COLUMNS[:-1])
    return f"substr({fields} || ' ' || coalesce({leaves}, ''), 1, {TEXT_CHARS})"


def _sqlite_index(row: str) -> str:
    return f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES ({row}.rowid, {_sqlite_text(row)})"


def _sqlite_unindex(row: str) -> str:
    return (f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) "
            f"VALUES ('delete', {row}.rowid, {_sqlite_text(row)})")


SQLITE_INSERT_TRIGGER = (f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON events "
                         f"BEGIN {_sqlite_index('new')}; END")
SQLITE_CREATE = (
    # Contentless: the text lives in `events`; the index keeps only words and positions.
    # columnsize=0: no per-row size table (nothing is ranked), one write less per event.
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(body, content='', "
    "tokenize='unicode61 remove_diacritics 0', prefix='2 3', columnsize=0)",
    f"CREATE VIRTUAL TABLE {FTS_VOCABULARY} USING fts5vocab({FTS_TABLE}, 'row')",
    SQLITE_INSERT_TRIGGER,
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON events BEGIN {_sqlite_unindex('old')}; END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {', '.join(SEARCHED_COLUMNS)} ON events "
    f"BEGIN {_sqlite_unindex('old')}; {_sqlite_index('new')}; END",
)
SQLITE_FILL = (f"INSERT INTO {FTS_TABLE}(rowid, body) "
               f"SELECT rowid, {_sqlite_text('events')} FROM events WHERE rowid > :after")
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{what}" for what in ("insert", "delete", "update")),
    f"DROP TABLE IF EXISTS {FTS_VOCABULARY}",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)

_PG_UNSEARCHED = ",".join(UNSEARCHED_PATH)
POSTGRESQL_CREATE = (
    # Immutable (regconfig given, no time zones), so it can be indexed. Runs of anything but
    # letters and digits become spaces, as FTS5's tokenizer splits text. A context that is
    # not an object (only a damaged row could hold one) is searched whole, never an error.
    f"""CREATE FUNCTION {PG_FUNCTION}(action text, app text, username text, client_ip text,
        context jsonb) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig, regexp_replace(left(concat_ws(' ',
        action, app, username, client_ip,
        (SELECT string_agg(left(leaf #>> '{{}}', {LEAF_CHARS}), ' ')
           FROM jsonb_path_query(CASE jsonb_typeof(context) WHEN 'object'
                THEN context #- '{{{_PG_UNSEARCHED}}}' ELSE context END, 'strict $.**') AS leaf
          WHERE jsonb_typeof(leaf) = 'string')), {TEXT_CHARS}), '[^[:alnum:]]+', ' ', 'g'))
    $$""",
    # Stored, not an expression index: the function is far too slow to run per row read
    # (a page walking the keyset index filters rows with it; a phrase rechecks every hit).
    f"ALTER TABLE events ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
    f"({PG_FUNCTION}({', '.join(SEARCHED_COLUMNS)})) STORED",
    f"CREATE INDEX {PG_INDEX} ON events USING gin ({PG_COLUMN})",
)
POSTGRESQL_DROP = (
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE events DROP COLUMN IF EXISTS {PG_COLUMN}",
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}(text, text, text, text, jsonb)",
)


def create_search_index(connection: sa.Connection, *, fill: bool = False) -> None:
    """Create the search index objects on `events` (which must exist). `fill`: index the
    rows already there (a migration; a new table is empty). PostgreSQL always fills."""
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            connection.exec_driver_sql(statement)
        if fill:
            connection.execute(sa.text(SQLITE_FILL), {"after": 0})
    elif connection.dialect.name == "postgresql":
        for statement in POSTGRESQL_CREATE:
            connection.exec_driver_sql(statement)


def rebuild_search_index(connection: sa.Connection) -> None:
    """Drop the index and build it again from every event. SQLite's VACUUM may renumber the
    rows of a table without an INTEGER PRIMARY KEY, and the FTS5 index points at those row
    numbers, so after a VACUUM (or any doubt) this puts the index right again."""
    drop_search_index(connection)
    create_search_index(connection, fill=True)


@contextmanager
def bulk_indexing(session: Session) -> Iterator[None]:
    """Wrap one bulk insert (a demo chunk, an import) in the session's open transaction.

    FTS5 writes out what it has indexed at the end of every statement, and each row of an
    executemany is a statement: through the trigger, a million rows become a million tiny
    index segments to merge, several times slower than the insert itself. Here the insert
    trigger is dropped, the new rows are indexed in one statement, and the trigger is put
    back, all in the caller's transaction: a failure rolls all of it back together, and no
    other writer can slip an unindexed row in (SQLite has one writer at a time).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not connection.scalar(sa.text(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
            {"name": f"{FTS_TABLE}_insert"}):
        yield
        return
    if not connection.connection.dbapi_connection.in_transaction:
        # Python's sqlite3 begins transactions only before DML; the DROP must be inside one.
        connection.exec_driver_sql("BEGIN")
    after = connection.scalar(sa.text("SELECT coalesce(max(rowid), 0) FROM events"))
    connection.exec_driver_sql(f"DROP TRIGGER {FTS_TABLE}_insert")
    yield
    connection.execute(sa.text(SQLITE_FILL), {"after": after})
    connection.exec_driver_sql(SQLITE_INSERT_TRIGGER)


def drop_search_index(connection: sa.Connection) -> None:
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}
    for statement in statements.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """For Alembic's autogenerate (`include_name`): the search objects are not in the models'
    metadata (they are DDL attached to `events`), so reflection must not report them."""
    if type_ == "table":
        return not (name or "").startswith((FTS_TABLE, FTS_VOCABULARY))
    if type_ == "index":
        return name != PG_INDEX
    if type_ == "column":
        return name != PG_COLUMN
    return True


sa.event.listen(Event.__table__, "after_create",
                lambda _table, connection, **_kw: create_search_index(connection))
sa.event.listen(Event.__table__, "before_drop",
                lambda _table, connection, **_kw: drop_search_index(connection))
