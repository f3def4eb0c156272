"""The planner's row estimate for a query, without running it (PostgreSQL's EXPLAIN).

SQLAlchemy has no EXPLAIN construct; this is its documented compiler-extension recipe, so
the statement's parameters go through the same bind processing as when it runs.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from webapp.core.extensions import db


class _Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement: sa.Select) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _explain_postgresql(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def planned_rows(statement: sa.Select) -> int | None:
    """How many rows PostgreSQL expects `statement` to return; None on other databases."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    plan = db.session.execute(_Explain(statement)).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])
