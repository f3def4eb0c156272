"""The Overview page: counters and top lists that link into Events > Logs, recent events."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from tests.integration.test_overview_stats import add
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.overview_stats import recent_overview_stats
from webapp.models import Event, EventRollupHour


def link_of(page: str, marker: str) -> tuple[str, dict[str, list[str]]]:
    """The path and query of the link carrying `marker` (an attribute or its text)."""
    match = re.search(rf'<a [^>]*href="([^"]+)"[^>]*{marker}', page)
    assert match, f"no link with {marker}"
    url = urlsplit(html.unescape(match.group(1)))
    return url.path, parse_qs(url.query)


def figure(page: str, stat: str) -> str:
    match = re.search(rf'data-stat="{stat}".*?herald-stat-value[^>]*>([^<]+)<', page, re.S)
    assert match, stat
    return match.group(1)


def test_counters_show_the_last_day_and_link_into_logs_with_their_filter(app, admin_client):
    now = utcnow()
    with app.app_context():
        for minutes in (5, 90, 600):
            add("login_failed", now - timedelta(minutes=minutes), username="root",
                client_ip="203.0.113.5")
        add("login", now - timedelta(hours=3), username="carol")
        add("suspicious_request", now - timedelta(hours=30), username=None)  # too old

    page = admin_client.get("/overview").text

    assert figure(page, "failed_logins") == "3" and figure(page, "suspicious") == "0"
    assert figure(page, "unique_users") == "4"  # system (made admin), admin, root, carol
    assert link_of(page, 'data-stat="failed_logins"') == (
        "/events/", {"action": ["login_failed"], "period": ["24h"]})
    assert link_of(page, 'data-stat="logins"') == (
        "/events/", {"action": ["login"], "period": ["24h"]})
    assert link_of(page, 'data-stat="suspicious"') == (
        "/events/", {"action": ["suspicious_request"], "period": ["24h"]})
    assert link_of(page, 'data-stat="events"') == ("/events/", {"period": ["24h"]})


def test_top_lists_link_each_entry_into_logs(app, admin_client):
    now = utcnow()
    with app.app_context():
        for minutes in (5, 200):
            add("login_failed", now - timedelta(minutes=minutes), username="root",
                client_ip="2001:db8::7")
        add("login", now - timedelta(minutes=20), username="carol")

    page = admin_client.get("/overview").text

    top_ips = page[page.index('id="top-failed-ips"'):]
    assert link_of(top_ips, r">\s*<span[^>]*>2001:db8::7<") == (
        "/events/", {"action": ["login_failed"], "client_ip": ["2001:db8::7"], "period": ["24h"]})
    top_failed = page[page.index('id="top-failed-usernames"'):]
    assert link_of(top_failed, r">\s*<span[^>]*>root<") == (
        "/events/", {"action": ["login_failed"], "username": ["root"], "period": ["24h"]})
    top_users = page[page.index('id="top-users"'):page.index('id="top-failed-usernames"')]
    assert link_of(top_users, r">\s*<span[^>]*>carol<") == (
        "/events/", {"username": ["carol"], "period": ["24h"]})
    assert re.search(r"root</span>\s*<span[^>]*>2</span>", top_failed)


def test_an_empty_top_list_says_so(admin_client):
    page = admin_client.get("/overview").text

    assert "No failed sign-ins in the last 24 hours." in page


def test_recent_events_are_the_latest_ten(app, admin_client):
    now = utcnow()
    with app.app_context():
        for i in range(12):
            add("model_updated", now - timedelta(minutes=i + 1), username=f"editor{i:02d}")

    page = admin_client.get("/overview").text
    recent = page[page.index('id="latest-events"'):]

    with app.app_context():
        newest = db.session.scalars(sa.select(Event.username).order_by(
            Event.created.desc()).limit(10)).all()
    assert len(newest) == 10 and "editor00" in newest and "editor11" not in newest
    assert set(re.findall(r"editor\d\d", recent)) == {n for n in newest if "editor" in n}


def test_the_first_load_rolls_up_the_closed_hours(app, admin_client):
    with app.app_context():
        add("login", utcnow() - timedelta(hours=5))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventRollupHour)) == 0

    assert admin_client.get("/overview").status_code == 200

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventRollupHour)) >= 22


def test_the_figures_are_kept_for_a_short_while_then_counted_again(app):
    store: dict = {}
    with app.app_context():
        first = recent_overview_stats(store)
        add("login", utcnow() - timedelta(minutes=1))

        assert recent_overview_stats(store) is first  # within the cache's lifetime
        assert recent_overview_stats(store, max_age=0).logins == 1
