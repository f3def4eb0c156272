"""Search-as-you-type over users and groups, answered from each database's own indexes.

A picker asks again after every keystroke, so one search must cost a few index lookups however
many users there are, where `LIKE '%text%'` reads every row. A search takes, in turn, the rows
where the typed text is a whole column (exact), begins a column (prefix) and appears anywhere
in one (contains), until it has enough: exact and prefix matches come first, and each step is
an index lookup of at most `limit` rows, sorted by label in Python. One typed character finds
whole columns only, two find prefixes too, three or more (a trigram) anything.

- SQLite: an FTS5 table with the trigram tokenizer over one text per row, each searched column
  in lower case between newlines ("\\nalice\\nalice@example.com\\nalice smith\\n"), whose
  rowid is the row's key, kept in step with the table by triggers. The steps are the phrases
  "\\ntext\\n", "\\ntext" and "text".
- PostgreSQL: a B-tree index on each lower(column) for the exact and prefix steps, and a GIN
  trigram index (pg_trgm) on the same joined text for the contains step (pg_trgm keeps only
  letters and digits, so it cannot tell where a column starts). PostgreSQL maintains them.

Like webapp.events.search, these objects are DDL outside the models, created with the tables
and by migration 0009; a SQLite batch migration that rebuilds `users` or `groups` drops the
triggers and must create them again (`drop_name_indexes` then `create_name_indexes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.models import Group, User

MAX_SEARCH_CHARS = 100
#: The steps of a search; typed text of n characters takes the first n of them.
EXACT, PREFIX, CONTAINS = STEPS = ("exact", "prefix", "contains")
TRIGRAM = 3  # the shortest text a trigram index can look up
_NOT_SEARCHABLE = re.compile(r"[\x00-\x1f\x7f]+")  # newlines mark column ends in the index


@dataclass(frozen=True)
class NameIndex:
    """The searchable text of one model's rows: `columns` of `model`, listed by `label`."""

    model: Any
    columns: tuple[str, ...]
    label: str

    @property
    def table(self) -> str:
        return self.model.__table__.name

    @property
    def key(self) -> sa.Column:
        (key,) = self.model.__table__.primary_key.columns
        return key

    @property
    def fts(self) -> str:
        return f"{self.table}_names"

    @property
    def pg_indexes(self) -> tuple[str, ...]:
        """The GIN trigram index, then one B-tree per column."""
        return (f"ix_{self.table}_names",
                *(f"ix_{self.table}_{column}_lower" for column in self.columns))

    def _text(self, newline: str, row: str | None = None) -> str:
        """The joined text as SQL, over the columns of `row` (`new` in a trigger)."""
        prefix = f"{row}." if row else ""
        parts = [f"lower({prefix}{column})" for column in self.columns]
        return f" || {newline} || ".join([newline, *parts, newline])

    # --- DDL -----------------------------------------------------------------------------

    def create(self, connection: sa.Connection, *, fill: bool) -> None:
        """Create the index objects on the table (which must exist). `fill`: index the rows
        already there (a migration; a new table is empty). PostgreSQL always fills."""
        if connection.dialect.name == "postgresql":
            names, by_column = self.pg_indexes[0], self.pg_indexes[1:]
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            connection.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {names} ON {self.table} "
                f"USING gin (({self._pg_text()}) gin_trgm_ops)")
            for index, column in zip(by_column, self.columns, strict=True):
                connection.exec_driver_sql(  # text_pattern_ops: LIKE 'x%' in any collation
                    f"CREATE INDEX IF NOT EXISTS {index} ON {self.table} "
                    f"(lower({column}) text_pattern_ops)")
            return
        text, key = self._text("char(10)", "new"), self.key.name
        for statement in (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.fts} USING fts5(names, "
            "tokenize='trigram')",
            # Merge as soon as two segments can be: after many rows are deleted and added
            # again (a directory sync), unmerged segments made searches thirty times slower.
            f"INSERT INTO {self.fts}({self.fts}, rank) VALUES ('automerge', 2)",
            f"CREATE TRIGGER IF NOT EXISTS {self.fts}_insert AFTER INSERT ON {self.table} "
            f"BEGIN INSERT INTO {self.fts}(rowid, names) VALUES (new.{key}, {text}); END",
            f"CREATE TRIGGER IF NOT EXISTS {self.fts}_update AFTER UPDATE OF "
            f"{', '.join(self.columns)} ON {self.table} "
            f"BEGIN UPDATE {self.fts} SET names = {text} WHERE rowid = new.{key}; END",
            f"CREATE TRIGGER IF NOT EXISTS {self.fts}_delete AFTER DELETE ON {self.table} "
            f"BEGIN DELETE FROM {self.fts} WHERE rowid = old.{key}; END",
        ):
            connection.exec_driver_sql(statement)
        if fill:
            connection.exec_driver_sql(
                f"INSERT INTO {self.fts}(rowid, names) "
                f"SELECT {key}, {self._text('char(10)')} FROM {self.table}")

    def drop(self, connection: sa.Connection) -> None:
        if connection.dialect.name == "postgresql":
            for index in self.pg_indexes:
                connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
            return
        for suffix in ("insert", "update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {self.fts}_{suffix}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {self.fts}")

    def _pg_text(self) -> str:
        return self._text("E'\\n'")

    # --- searching -----------------------------------------------------------------------

    def find(self, text: str, *, limit: int, where: Sequence[sa.ColumnElement[bool]] = (),
             load: Sequence[Any] = ()) -> list[Any]:
        """Up to `limit` rows matching `text` and every condition in `where`: exact matches
        first, then prefixes, then the rest, each group by label. Empty text lists the first
        rows by label. `load`: loader options for what the caller will read of each row."""
        needle = normalize(text)
        if not needle:
            query = sa.select(self.model).where(*where).order_by(getattr(self.model, self.label))
            return list(db.session.scalars(query.options(*load).limit(limit)))
        found: list[Any] = []
        for step in STEPS[:len(needle)]:
            query = self._matching(step, needle).where(*where).options(*load)
            if found:
                query = query.where(self.key.not_in([self.key_of(row) for row in found]))
            rows = db.session.scalars(query.limit(limit - len(found))).all()
            found += sorted(rows, key=lambda row: getattr(row, self.label).lower())
            if len(found) >= limit:
                break
        return found

    def key_of(self, row: Any) -> Any:
        return getattr(row, self.key.key)

    def containing(self, text: str) -> sa.ColumnElement[bool]:
        """Rows where `text` appears in any searched column, as a condition for a paged list
        (the Users page, the API's `search`): from three characters on, an index lookup;
        shorter text matches too, by reading the columns."""
        needle = normalize(text)
        if not needle:
            return sa.true()
        if len(needle) < TRIGRAM:  # no trigram to look up
            return sa.or_(*(sa.func.lower(getattr(self.model, column)).like(
                f"%{_like_escaped(needle)}%", escape="\\") for column in self.columns))
        return self._condition(CONTAINS, needle)

    def _on_postgresql(self) -> bool:
        return db.session.get_bind(mapper=self.model.__mapper__).dialect.name == "postgresql"

    def _matching(self, step: str, needle: str) -> sa.Select:
        return sa.select(self.model).where(self._condition(step, needle))

    def _condition(self, step: str, needle: str) -> sa.ColumnElement[bool]:
        if self._on_postgresql():
            return self._pg_condition(step, needle)
        return self._sqlite_condition(step, needle)

    def _sqlite_condition(self, step: str, needle: str) -> sa.ColumnElement[bool]:
        text = {EXACT: f"\n{needle}\n", PREFIX: f"\n{needle}", CONTAINS: needle}[step]
        fts = sa.table(self.fts, sa.column("rowid", sa.Integer), sa.column(self.fts))
        phrase = '"' + text.replace('"', '""') + '"'  # a string: no FTS5 operators
        return self.key.in_(sa.select(fts.c.rowid).where(fts.c[self.fts].op("MATCH")(phrase)))

    def _pg_condition(self, step: str, needle: str) -> sa.ColumnElement[bool]:
        escaped = _like_escaped(needle)  # PostgreSQL's LIKE escapes with the backslash
        if step == CONTAINS:
            return sa.literal_column(f"({self._pg_text()})").like(f"%{escaped}%")
        lowered = [sa.func.lower(getattr(self.model, column)) for column in self.columns]
        return sa.or_(*(column == needle if step == EXACT
                        else column.like(f"{escaped}%") for column in lowered))


def _like_escaped(needle: str) -> str:
    """`needle` for a LIKE pattern with the backslash as escape: `%` and `_` are literal."""
    return re.sub(r"([\\%_])", r"\\\1", needle)


def normalize(text: str) -> str:
    """What is searched for: lower case, single spaces, no control characters."""
    return " ".join(_NOT_SEARCHABLE.sub(" ", text[:MAX_SEARCH_CHARS]).split()).lower()


USERS = NameIndex(User, ("username", "email", "name"), label="username")
GROUPS = NameIndex(Group, ("name",), label="name")
INDEXES = (USERS, GROUPS)


def create_name_indexes(connection: sa.Connection, *, fill: bool = False) -> None:
    for index in INDEXES:
        index.create(connection, fill=fill)


def drop_name_indexes(connection: sa.Connection) -> None:
    for index in INDEXES:
        index.drop(connection)


def include_name(name: str | None, type_: str, _parent_names: dict[str, Any]) -> bool:
    """For Alembic's autogenerate: these objects are not in the models' metadata."""
    if type_ == "table":
        return not (name or "").startswith(tuple(index.fts for index in INDEXES))
    if type_ == "index":
        return name not in {name for index in INDEXES for name in index.pg_indexes}
    return True


for _index in INDEXES:
    sa.event.listen(_index.model.__table__, "after_create",
                    lambda _table, connection, index=_index, **_kw: index.create(connection,
                                                                                 fill=False))
    sa.event.listen(_index.model.__table__, "before_drop",
                    lambda _table, connection, index=_index, **_kw: index.drop(connection))
