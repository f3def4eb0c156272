"""Helpers the Directory tests share (they need an application context where noted)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.helpers import post_form
from webapp.core.extensions import db


def stored(model: type, **where: Any) -> Any:
    """The row as the database has it now, or None (needs an application context)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(model).filter_by(**where))


def ask_then_confirm(client: FlaskClient, url: str) -> tuple[str, str]:
    """Open a delete page, confirm it, and follow to where it leads: both pages' text."""
    question = client.get(url).text
    answer = post_form(client, url, follow_redirects=True).text
    return question, answer
