"""Related events on an event's page: the same request, the same user within ten minutes
either side, and the previous / next change of the same object."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from markupsafe import Markup

from tests.helpers import counted_statements
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.related import LIMIT, WINDOW, offset, related_events
from webapp.models import Event

BOB = {"pk": 10_005, "username": "bob", "email": "bob@example.com"}
CAROL = {"pk": 10_006, "username": "carol", "email": "carol@example.com"}
ANONYMOUS = {"username": "AnonymousUser", "email": "", "is_anonymous": True}
USER_7 = {"pk": 10_007, "app": "herald", "name": "dana", "model_name": "user"}


def add(action: str = "login", *, user: dict[str, Any] | None = None, when: datetime,
        request_id: str | None = None, **context: Any) -> Event:
    if request_id:
        context["http_request"] = {"path": "/x", "method": "POST", "request_id": request_id}
    event = record(action, context, user=user or BOB, created=when, app="tests")
    db.session.commit()
    return event


def section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}-section"', 1)[1].split("</section>", 1)[0]


def linked_ids(html: str) -> list[str]:
    return re.findall(r'href="/events/([0-9a-f-]{36})"', html)


def test_events_of_the_same_request_are_listed_in_order(app, admin_client):
    now = utcnow()
    with app.app_context():
        first = add("model_updated", when=now, request_id="req-1", model=USER_7)
        this = add("model_updated", when=now + timedelta(seconds=1), request_id="req-1")
        third = add("custom_hook", when=now + timedelta(seconds=2), request_id="req-1")
        add("login", when=now, request_id="req-2")
        ids = first.pk, this.pk, third.pk
        assert [n.event.pk for n in related_events(this).same_request] == [ids[0], ids[2]]
        assert related_events(add(when=now)).same_request is None  # not from a request
    page = admin_client.get(f"/events/{ids[1]}").text
    assert linked_ids(section(page, "related-request")) == [ids[0], ids[2]]
    assert "1 s earlier" in section(page, "related-request")


def test_same_user_means_within_ten_minutes_either_side_inclusive(app, admin_client):
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        this = add(when=now)
        inside = [add("logout", when=now - WINDOW), add("custom_a", when=now + WINDOW),
                  add("custom_b", when=now)]
        add(when=now - WINDOW - timedelta(seconds=1))
        add(when=now + WINDOW + timedelta(seconds=1))
        add(user=CAROL, when=now)
        related = related_events(this).same_user
        expected = sorted(inside, key=lambda e: (e.created, e.event_uuid))
        assert [n.event.pk for n in related] == [e.pk for e in expected]
        assert [n.offset for n in related][0] == "10 min earlier"
        this_id = this.pk
    page = admin_client.get(f"/events/{this_id}").text
    assert len(linked_ids(section(page, "related-user"))) == 3


def test_a_failed_sign_in_relates_by_the_username_tried(app):
    now = utcnow()
    with app.app_context():
        this = add("login_failed", user=ANONYMOUS, when=now, username="bob")
        other = add("login_failed", user=ANONYMOUS, when=now + timedelta(minutes=1),
                    username="bob")
        own = add("login", when=now + timedelta(minutes=2))  # bob's own sign-in
        add("login_failed", user=ANONYMOUS, when=now, username="root")
        related = related_events(this).same_user
        assert [n.event.pk for n in related] == [other.pk, own.pk]
        assert related[0].who == "anonymous, tried “bob”"
        nobody = add("suspicious_request", user=ANONYMOUS, when=now, reason="csrf")
        assert related_events(nobody).same_user is None  # "AnonymousUser" is not one person


def test_object_history_shows_the_previous_and_next_change(app, admin_client):
    now = utcnow()
    with app.app_context():
        changes = [add("model_updated", when=now + timedelta(minutes=n), model=USER_7)
                   for n in (0, 5, 5, 9)]  # two at the same instant: the uuid breaks the tie
        token_7 = {"pk": 10_007, "app": "herald", "name": "ci", "model_name": "token"}
        add("model_deleted", when=now + timedelta(minutes=6), model=token_7)
        ordered = sorted(changes, key=lambda e: (e.created, e.event_uuid))
        for index, event in enumerate(ordered):
            history = related_events(event).history
            assert (history.previous.event.pk if history.previous else None) == \
                (ordered[index - 1].pk if index else None)
            assert (history.next.event.pk if history.next else None) == \
                (ordered[index + 1].pk if index + 1 < len(ordered) else None)
        assert related_events(add(when=now)).history is None
        middle = ordered[1].pk
    page = admin_client.get(f"/events/{middle}").text
    history = section(page, "related-object")
    assert "Previous change" in history and "Next change" in history
    assert linked_ids(history) == [ordered[0].pk, ordered[2].pk]
    link = re.search(r'href="([^"]+)">All changes of this object', history).group(1)
    url = urlsplit(Markup(link).unescape())
    assert url.path == "/events/"
    assert parse_qs(url.query) == {"model_app": ["herald"], "model_name": ["user"],
                                   "model_pk": ["10007"]}


def test_every_list_is_bounded_and_the_user_list_keeps_the_closest(app):
    now = utcnow()
    with app.app_context():
        this = add(when=now, request_id="busy")
        for n in range(1, 31):
            add("custom_tick", when=now + timedelta(seconds=n), request_id="busy")
        for n in range(1, 6):
            add("custom_before", when=now - timedelta(seconds=n))
        related = related_events(this)
        assert len(related.same_request) == LIMIT
        assert len(related.same_user) == LIMIT
        gaps = [abs((n.event.created - now).total_seconds()) for n in related.same_user]
        assert max(gaps) <= 15  # the 20 nearest: 5 before and 15 after, not the 20 after
        assert sum(n.event.action == "custom_before" for n in related.same_user) == 5


def test_each_list_is_one_query(app):
    now = utcnow()
    with app.app_context():
        this = add("model_updated", when=now, request_id="r", model=USER_7)
        db.session.expire_all()
        this = db.session.get(Event, this.event_uuid)
        with counted_statements() as statements:
            related_events(this)
    assert len([s for s in statements if "FROM events" in s]) == 3


def test_related_lists_use_the_indexes(app):
    """The query plans name the indexes: no list scans the events table."""
    now = utcnow()
    with app.app_context():
        this = add("model_updated", when=now, request_id="r", model=USER_7)
        if db.engine.dialect.name != "sqlite":
            return  # PostgreSQL chooses by statistics; the bench measures it instead
        statements: list[tuple[str, Any]] = []

        def note(connection, cursor, statement, parameters, *args) -> None:
            statements.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            related_events(this)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)
        for statement, parameters in statements:
            plan = db.session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "USING INDEX" in details or "USING COVERING INDEX" in details, details
            assert "SCAN events" not in details.replace("SCAN events USING", ""), details


def test_empty_sections_say_so(app, admin_client):
    with app.app_context():
        pk = add("custom_alone", user=ANONYMOUS, when=utcnow()).pk
    page = admin_client.get(f"/events/{pk}").text
    assert "Not recorded during a web request." in page
    assert "No user to relate this event by." in page
    assert "This event did not change an object." in page


def test_offsets_read_like_a_person_would_say_them():
    assert offset(timedelta(0)) == "same time"
    assert offset(timedelta(seconds=-12)) == "12 s earlier"
    assert offset(timedelta(minutes=3, seconds=5)) == "3 min later"
    assert offset(timedelta(hours=-1)) == "1 h earlier"
    assert offset(timedelta(days=1)) == "1 day later"
    assert offset(timedelta(days=-3)) == "3 days earlier"
