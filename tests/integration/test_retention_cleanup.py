"""The retention cleanup job: expired events go, the rest stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_event
from tests.helpers import events
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.maintenance import delete_expired, reapply_retention
from webapp.models import Event
from webapp.system.jobs import cleanup_expired_events

pytestmark = pytest.mark.usefixtures("ctx")


def test_expired_events_disappear_at_the_next_cleanup_and_others_stay():
    make_event("login", created=utcnow() - timedelta(days=2), expires_in=timedelta(days=1))
    make_event("logout", created=utcnow() - timedelta(days=2), expires_in=timedelta(days=1))
    keep = make_event("login_failed")

    assert cleanup_expired_events() == "Deleted 2 expired events."
    assert [e.event_uuid for e in events()] == [keep.event_uuid]


def test_cleanup_works_in_bounded_batches():
    past = utcnow() - timedelta(hours=1)
    db.session.execute(sa.insert(Event), [
        {"event_uuid": __import__("uuid").uuid4(), "action": "login", "app": "tests",
         "user": {}, "context": {}, "brand": {}, "created": past, "expires": past}
        for _ in range(23)])
    db.session.commit()
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))

    assert delete_expired(batch_size=10) == 23
    assert len([s for s in statements if s.lstrip().upper().startswith("DELETE")]) == 3
    assert events() == []


def test_reapplying_walks_every_event_in_batches_and_reports_progress():
    for days_ago in range(5):
        make_event("login", created=utcnow() - timedelta(days=days_ago))
    seen: list[tuple[int, int]] = []

    assert reapply_retention(timedelta(hours=1), lambda done, total: seen.append((done, total)),
                             batch_size=2) == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert all(e.expires - e.created == timedelta(hours=1) for e in events())
