"""Events > Logs filters against the real database: each filter on its own and combined,
bad values answered inline without losing the table, counts that stop at a cap, and the
live tail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.filters import parse_filters
from webapp.events.queries import count_events, encode_cursor, event_page, events_after
from webapp.views.events import logs as logs_view

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    """A small, varied set of events; returns their pks by name."""
    now = utcnow()
    specs = {
        "alice_login_berlin": ("login", {"username": "alice", "ip": "10.1.2.3",
                                         "geo": {"country": "DE", "city": "Berlin"},
                                         "ago": timedelta(minutes=5)}),
        "bob_failed_auckland": ("login_failed", {"username": "bob", "ip": "10.1.200.9",
                                                 "geo": {"country": "NZ", "city": "Auckland"},
                                                 "ago": timedelta(hours=2)}),
        "carol_update_v6": ("model_updated", {"username": "carol", "ip": "2001:db8::7",
                                              "model": {"pk": 7, "app": "herald",
                                                        "name": "dave", "model_name": "user"},
                                              "ago": timedelta(days=3)}),
        "old_login_v4": ("login", {"username": "alice", "ip": "192.0.2.200",
                                   "ago": timedelta(days=40)}),
        "custom": ("custom_deploy", {"username": "ci", "ip": None,
                                     "ago": timedelta(minutes=1)}),
    }
    pks = {}
    with app.app_context():
        for name, (action, spec) in specs.items():
            context = {key: spec[key] for key in ("geo", "model") if key in spec}
            event = record(action, context, app="tests.world",
                           user={"pk": len(pks) + 1, "username": spec["username"],
                                 "email": ""},
                           client_ip=spec["ip"], created=now - spec["ago"])
            pks[name] = event.pk
        db.session.commit()
    return pks


def shown(response_text: str, world: dict[str, str]) -> set[str]:
    return {name for name, pk in world.items() if f"/events/{pk}" in response_text}


@pytest.mark.parametrize("query, expected", [
    ("action=login", {"alice_login_berlin", "old_login_v4"}),
    ("action=login&action=login_failed",
     {"alice_login_berlin", "old_login_v4", "bob_failed_auckland"}),
    ("action=custom_deploy", {"custom"}),
    ("username=alice", {"alice_login_berlin", "old_login_v4"}),
    ("client_ip=10.1.2.3", {"alice_login_berlin"}),
    ("client_ip=10.1.0.0/16", {"alice_login_berlin", "bob_failed_auckland"}),
    ("client_ip=10.1.128.0/17", {"bob_failed_auckland"}),
    ("client_ip=2001:db8::/32", {"carol_update_v6"}),
    ("client_ip=2001:db9::/32", set()),
    ("app=tests.world&period=24h", {"alice_login_berlin", "bob_failed_auckland", "custom"}),
    ("period=1h", {"alice_login_berlin", "custom"}),
    ("period=7d&action=model_updated", {"carol_update_v6"}),
    ("model_app=herald&model_name=user&model_pk=7", {"carol_update_v6"}),
    ("model_pk=8", set()),
    ("country=nz", {"bob_failed_auckland"}),
    ("city=Berlin", {"alice_login_berlin"}),
    ("username=alice&period=30d&client_ip=10.0.0.0/8", {"alice_login_berlin"}),
])
def test_each_filter_selects_exactly_its_events(admin_client, world, query, expected):
    page = admin_client.get(f"/events/?{query}")
    assert page.status_code == 200
    assert shown(page.text, world) == expected


def test_a_custom_date_range_selects_the_events_inside_it(admin_client, world):
    today = utcnow().date()
    since = (today - timedelta(days=41)).isoformat()
    until = (today - timedelta(days=2)).isoformat()
    page = admin_client.get(f"/events/?period=custom&since={since}&until={until}")
    assert shown(page.text, world) == {"old_login_v4", "carol_update_v6"}


def test_a_bad_value_on_a_full_page_shows_its_message_and_applies_the_rest(admin_client, world):
    page = admin_client.get("/events/?client_ip=10.0.0.0/33&username=bob")
    assert page.status_code == 200
    assert shown(page.text, world) == {"bob_failed_auckland"}
    error = re.search(r'id="filter-error-client_ip"[^>]*>([^<]*)<', page.text)
    assert error and "CIDR" in error.group(1)
    assert re.search(r'id="filter-client_ip"[^>]*aria-invalid="true"', page.text)
    assert 'value="10.0.0.0/33"' in page.text  # what was typed stays in the field


def test_a_bad_value_from_htmx_updates_only_the_messages_and_keeps_the_table(admin_client,
                                                                            world):
    response = admin_client.get("/events/?client_ip=10.0.0.0/33", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Reswap"] == "none"
    assert response.headers["HX-Push-Url"] == "false"
    assert "event-rows" not in response.text
    assert 'hx-swap-oob="true"' in response.text and "CIDR" in response.text


def test_a_good_value_from_htmx_swaps_the_results_and_clears_old_messages(admin_client, world):
    response = admin_client.get("/events/?client_ip=10.1.2.3", headers=HTMX)
    assert "HX-Reswap" not in response.headers
    assert response.text.lstrip().startswith('<div id="event-results">')
    assert shown(response.text, world) == {"alice_login_berlin"}
    assert re.search(r'id="filter-error-client_ip"[^>]*hx-swap-oob="true"></div>', response.text)
    assert "HX-Request" in response.headers["Vary"]


def test_links_keep_every_filter(app, admin_client, world):
    app.config["PAGE_SIZE"] = 1
    page = admin_client.get("/events/?action=login&action=login_failed&app=tests.world").text
    older = re.search(r'id="older-events"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="older-events"',
                      page)
    link = (older.group(1) or older.group(2)).replace("&amp;", "&")
    assert "action=login&action=login_failed&app=tests.world" in link and "start=2" in link
    second = admin_client.get(link).text
    counted = re.search(r'id="event-count"[^>]*hx-get="([^"]+)"', second).group(1)
    assert "start=2&amp;shown=1" in counted and "app=tests.world" in counted
    assert "2–2 of 3 events" in " ".join(
        admin_client.get(counted.replace("&amp;", "&"), headers=HTMX).text.split())


def test_counts_stop_at_the_cap_and_the_exact_figure_comes_on_demand(app, admin_client, world):
    with app.app_context():
        everything = parse_filters(_Args(app="tests.world")).filter
        assert count_events(everything, cap=3).value == 3
        assert count_events(everything, cap=3).capped
        assert count_events(everything, cap=None).value == 5
    bounded = admin_client.get("/events/count?app=tests.world&start=1&shown=5", headers=HTMX)
    assert "1–5 of 5 events" in " ".join(bounded.text.split())
    exact = admin_client.get("/events/count?action=login&app=tests.world&start=1&shown=2"
                             "&exact=1", headers=HTMX)
    assert "1–2 of 2 events" in " ".join(exact.text.split())


def test_a_capped_count_offers_the_exact_figure(admin_client, world, monkeypatch):
    monkeypatch.setattr(logs_view, "COUNT_CAP", 3)
    capped = admin_client.get("/events/count?app=tests.world&start=1&shown=2").text
    assert "1–2 of 3+ events" in " ".join(capped.split())
    assert 'id="exact-count"' in capped and "exact=1" in capped


def test_a_search_alone_is_counted_in_the_index_and_agrees_with_the_rows(app, admin_client,
                                                                          world):
    with app.app_context():
        alone = parse_filters(_Args(q="Berlin")).filter
        assert alone.only_search
        assert not parse_filters(_Args(q="Berlin", username="alice")).filter.only_search
        assert count_events(alone).value == 1
        assert count_events(alone, cap=None).value == 1


def test_the_live_tail_returns_only_newer_matching_events(app, admin_client, world):
    with app.app_context():
        filters = parse_filters(_Args(action=["login"])).filter
        newest = event_page(filters, None, 10).events[0]
        cursor = encode_cursor(newest)
        assert events_after(filters, cursor) == []
        record("login", {}, app="tests", user={"pk": 9, "username": "erin", "email": ""})
        record("logout", {}, app="tests", user={"pk": 9, "username": "erin", "email": ""})
        db.session.commit()
        assert [event.action for event in events_after(filters, cursor)] == ["login"]
    response = admin_client.get(f"/events/tail?action=login&after={cursor}", headers=HTMX)
    assert response.status_code == 200
    assert response.text.count('class="herald-event-row herald-new"') == 1
    assert 'id="live-tail" hidden hx-swap-oob="true"' in response.text
    nothing = admin_client.get(f"/events/tail?action=login_failed&after={cursor}", headers=HTMX)
    assert nothing.status_code == 204
    assert admin_client.get("/events/tail?after=garbage", headers=HTMX).status_code == 204


class _Args(dict):
    """A query string built in a test (the shape parse_filters reads)."""

    def __init__(self, **values):
        super().__init__(values)

    def get(self, key, default=""):
        value = super().get(key, default)
        return value[0] if isinstance(value, list) else value

    def getlist(self, key):
        value = super().get(key, [])
        return value if isinstance(value, list) else [value]


def test_a_deeper_page_of_a_custom_range_starts_its_scan_at_the_cursor_on_sqlite(app):
    """Bounded by the range's `until` instead, page n would walk the n - 1 pages above it."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's query plan")
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    with app.app_context():
        now = utcnow()
        for minutes in range(3):
            record("login", {}, app="tests", created=now - timedelta(minutes=minutes + 1))
        db.session.commit()
        filters = parse_filters(MultiDict({"period": "custom",
                                           "since": (now - timedelta(days=1)).date().isoformat(),
                                           "until": now.date().isoformat()})).filter
        first = event_page(filters, None, 1)
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            event_page(filters, first.next_cursor, 1)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        sql, args = statements[0]
        plan = " ".join(row[-1] for row in db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}", args))
    assert "(created,event_uuid)<(?,?)" in plan, plan


def test_one_objects_page_is_read_from_the_index_alone(app):
    """The object's app and name sit in its index after the keyset columns: a page of one
    object's events never reads the table rows to check them (1,852 rows for one group at
    1M events before)."""
    model = {"app": "herald", "model_name": "group", "pk": "42", "name": "admins"}
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    with app.app_context():
        for action in ("model_created", "model_updated", "login"):
            record(action, {"model": model} if action != "login" else {}, app="tests")
        db.session.commit()
        filters = parse_filters(MultiDict({"model_app": "herald", "model_name": "group",
                                           "model_pk": "42"})).filter
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            page = event_page(filters, None, 10)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        plan = _plan(*statements[0])
    assert [event.action for event in page.events] == ["model_updated", "model_created"]
    assert "ix_events_model_pk_created" in plan
    assert ("COVERING INDEX" in plan) or ("Index Only Scan" in plan), plan


def _plan(sql: str, parameters: object) -> str:
    """The plan of the keys subquery as text; PostgreSQL is told to use an index (on a table
    of three rows it would rather read the table), so what shows is whether the index alone
    suffices."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {sql}", parameters)
        return " ".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    return " ".join(row[-1] for row in rows)
