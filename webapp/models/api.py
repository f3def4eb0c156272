"""State of the REST API that every worker process must share."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db_types import UTCDateTime
from webapp.core.extensions import db


class ApiPageCursor(db.Model):
    """Where the next page of an API walk starts (webapp/api/pagination.py).

    In the database, not in a worker's memory: under gunicorn the Elastic Agent's request for
    page N+1 may reach any worker, and one that had not served page N would fall back to an
    OFFSET over millions of index entries (about a second at 10M events)."""

    __tablename__ = "api_page_cursors"

    walk: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of list+query+page
    after: Mapped[str] = mapped_column(sa.String(500))  # the last row's keyset values, JSON
    count: Mapped[int] = mapped_column(sa.BigInteger)
    count_exact: Mapped[bool] = mapped_column(sa.Boolean)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
