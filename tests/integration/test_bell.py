"""The bell: the polled count, the drawer, marking read (only one's own), and the history."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.factories import make_event, make_user
from tests.helpers import csrf_token, post_form
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Notification
from webapp.notifications import inbox

HTMX = {"HX-Request": "true"}


def notify(user_id: int, body: str, *, severity: str = "notice", seen: bool = False,
           minutes_ago: int = 0, hyperlink: str | None = None) -> Notification:
    notification = Notification(user_id=user_id, body=body, severity=severity, seen=seen,
                                created=utcnow() - timedelta(minutes=minutes_ago),
                                seen_at=utcnow() if seen else None, hyperlink=hyperlink,
                                hyperlink_label="Show event" if hyperlink else None)
    db.session.add(notification)
    db.session.commit()
    return notification


@pytest.fixture
def other_user(app) -> int:
    with app.app_context():
        return make_user("mallory").id


def htmx_post(client: FlaskClient, url: str):
    """POST as the bell's buttons do: htmx, CSRF token in the header from <body hx-headers>."""
    return client.post(url, headers={**HTMX, "X-CSRFToken": csrf_token(client)})


def unread_of(user_id: int) -> set[str]:
    db.session.expire_all()
    return {n.body for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user_id,
                                      Notification.seen == sa.false()))}


def test_the_header_bell_counts_only_my_unread_notifications(app, admin_client, admin,
                                                             other_user):
    with app.app_context():
        for body in ("one", "two", "three"):
            notify(admin, body)
        notify(admin, "old", seen=True)
        notify(other_user, "not mine")

    page = admin_client.get("/events/").text
    assert "3 unread notifications" in page
    assert 'hx-get="/notifications/badge?shown=3"' in page
    assert 'aria-hidden="true">3</span>' in page


def test_the_badge_polls_every_8_seconds_and_refreshes_on_notifications_changed(admin_client):
    page = admin_client.get("/events/").text
    trigger = re.search(r'id="bell-count"[^>]*hx-trigger="([^"]+)"', page).group(1)
    assert trigger.split(", ") == ["every 8s", "visibilitychange from:document",
                                   "notifications-changed from:body"]
    assert "[" not in trigger  # a filter expression needs eval, which the CSP forbids
    assert '<script src="/static/js/bell.js" defer></script>' in page


def test_the_badge_answers_204_while_the_shown_count_is_right(app, admin_client, admin):
    with app.app_context():
        notify(admin, "one")

    assert admin_client.get("/notifications/badge?shown=1").status_code == 204
    changed = admin_client.get("/notifications/badge?shown=0")
    assert changed.status_code == 200
    assert "1 unread notification<" in changed.text
    assert 'hx-get="/notifications/badge?shown=1"' in changed.text
    assert "<html" not in changed.text


def test_no_badge_pill_at_zero(admin_client):
    fragment = admin_client.get("/notifications/badge").text
    assert "No unread notifications" in fragment
    assert "badge rounded-pill" not in fragment


def test_a_poll_is_one_count_query_after_the_user_and_writes_no_cookie(app, admin_client, admin):
    with app.app_context():
        notify(admin, "one")
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))
    response = admin_client.get("/notifications/badge?shown=0", headers=HTMX)

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert len(statements) == 2, statements  # load the signed-in user, count
    assert "count(" in statements[1].lower()


def test_the_count_is_answered_from_the_index(app, ctx, admin):
    query = sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == admin, Notification.seen == sa.false())
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SET enable_seqscan = off"))
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = " ".join(connection.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
        else:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = " ".join(row[-1] for row in connection.execute(
                sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_notifications_user_seen_created" in plan, plan
    assert inbox.unread_count(admin) == 0


def test_the_drawer_lists_my_unread_newest_first_with_severity_time_and_link(
        app, admin_client, admin, other_user):
    with app.app_context():
        link = f"/events/{make_event('login_failed').pk}"
        notify(admin, "older warning", severity="warning", minutes_ago=5, hyperlink=link)
        notify(admin, "newest alert", severity="alert", hyperlink=link)
        notify(admin, "already read", seen=True)
        notify(other_user, "for mallory")

    drawer = admin_client.get("/notifications/drawer", headers=HTMX).text
    assert drawer.index("newest alert") < drawer.index("older warning")
    assert "already read" not in drawer and "for mallory" not in drawer
    assert "text-bg-danger" in drawer and "text-bg-warning" in drawer
    assert "5 min ago" in drawer and " UTC" in drawer
    assert f'href="{link}">Show event</a>' in drawer
    assert drawer.count("Mark read") == 2
    assert "Mark all read" in drawer and "2 unread" in drawer


def test_the_drawer_says_so_when_nothing_is_unread(admin_client):
    drawer = admin_client.get("/notifications/drawer", headers=HTMX).text
    assert "You are all caught up." in drawer
    assert "Mark all read" not in drawer


def test_marking_one_read_tells_the_bell_and_touches_nothing_else(app, admin_client, admin):
    with app.app_context():
        first = notify(admin, "first").uuid
        notify(admin, "second")

    response = htmx_post(admin_client, f"/notifications/{first}/read")

    assert response.status_code == 204
    assert response.headers["HX-Trigger"] == "notifications-changed"
    with app.app_context():
        assert unread_of(admin) == {"second"}
        seen = db.session.scalar(sa.select(Notification).where(Notification.uuid == first))
        assert seen.seen and seen.seen_at is not None
    assert htmx_post(admin_client, f"/notifications/{first}/read").status_code == 204


def test_another_users_notification_is_a_404_and_stays_unread(app, admin_client, other_user):
    with app.app_context():
        theirs = notify(other_user, "theirs").uuid

    assert htmx_post(admin_client, f"/notifications/{theirs}/read").status_code == 404
    assert htmx_post(admin_client, f"/notifications/{uuid.uuid4()}/read").status_code == 404
    assert htmx_post(admin_client, "/notifications/not-a-uuid/read").status_code == 404
    with app.app_context():
        assert unread_of(other_user) == {"theirs"}


def test_mark_all_read_clears_only_my_bell(app, admin_client, admin, other_user):
    with app.app_context():
        notify(admin, "a")
        notify(admin, "b")
        notify(other_user, "theirs")

    response = htmx_post(admin_client, "/notifications/read")

    assert response.status_code == 204
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert "No unread notifications" in admin_client.get("/notifications/badge").text
    with app.app_context():
        assert unread_of(admin) == set()
        assert unread_of(other_user) == {"theirs"}


def test_without_javascript_mark_read_returns_to_the_history(app, admin_client, admin):
    with app.app_context():
        mine = notify(admin, "mine").uuid

    response = post_form(admin_client, f"/notifications/{mine}/read")

    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications/"


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("", {"new notice", "seen alert", "new alert"}, set()),
    ("?seen=unread", {"new notice", "new alert"}, {"seen alert"}),
    ("?seen=read", {"seen alert"}, {"new notice", "new alert"}),
    ("?severity=alert", {"seen alert", "new alert"}, {"new notice"}),
    ("?seen=unread&severity=alert", {"new alert"}, {"seen alert", "new notice"}),
])
def test_the_history_filters_by_seen_and_severity(app, admin_client, admin, other_user, query,
                                                  shown, hidden):
    with app.app_context():
        notify(admin, "new notice")
        notify(admin, "seen alert", severity="alert", seen=True)
        notify(admin, "new alert", severity="alert")
        notify(other_user, "alert for mallory", severity="alert")

    page = admin_client.get(f"/notifications/{query}").text
    assert all(body in page for body in shown), page
    assert not any(body in page for body in hidden | {"alert for mallory"})


def test_the_history_pages_keep_the_filter_and_htmx_gets_the_fragment(app, admin_client, admin):
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        for number in range(5):
            notify(admin, f"alert {number}", severity="alert", minutes_ago=number)
        notify(admin, "a notice", minutes_ago=10)

    page = admin_client.get("/notifications/?severity=alert&page=2").text
    assert "alert 2" in page and "alert 3" in page and "alert 1" not in page
    assert 'href="/notifications/?page=3&amp;severity=alert"' in page
    fragment = admin_client.get("/notifications/?severity=alert&page=2", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="notification-history"')
    assert 'hx-get="/notifications/?page=2&amp;severity=alert"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(("query", "message"), [
    ("?severity=bogus", "Unknown severity"),
    ("?seen=maybe", "Unknown “seen” filter"),
])
def test_an_unknown_filter_value_is_a_clear_400(admin_client, query, message):
    response = admin_client.get(f"/notifications/{query}")
    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize("page", ["-1", "0", "abc", "99999999999999999999"])
def test_a_silly_page_number_is_ignored_not_an_error(app, admin_client, admin, page):
    with app.app_context():
        notify(admin, "still here")
    response = admin_client.get(f"/notifications/?page={page}")
    assert response.status_code == 200


def test_a_regular_user_has_the_bell_and_history_and_no_admin_pages(app, user_client,
                                                                    regular_user):
    with app.app_context():
        link = f"/events/{make_event('password_set').pk}"
        notify(regular_user, "Your password was changed", hyperlink=link)

    home = user_client.get("/auth/password").text
    assert "1 unread notification<" in home and 'href="/notifications/"' in home
    assert "Your password was changed" in user_client.get("/notifications/").text
    drawer = user_client.get("/notifications/drawer", headers=HTMX).text
    assert "Your password was changed" in drawer
    assert "/events/" not in drawer  # the event page is for admins: no link into a 403
    for url in ("/overview", "/events/", link, "/directory/users",
                "/directory/groups", "/settings/", "/reports/"):
        assert user_client.get(url).status_code == 403, url
    assert htmx_post(user_client, "/notifications/read").status_code == 204


def test_signed_out_polls_are_sent_to_sign_in(client):
    response = client.get("/notifications/badge", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login")
