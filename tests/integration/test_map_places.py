"""The map's aggregation (webapp.reports.places): events per place and action from one grouped
query, each place's dominant category, latest event and coordinates, and a bounded number of
places however many events are in range."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_event
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.filters import EventFilter
from webapp.reports.places import dominant_category, places_for

BERLIN = {"country": "DE", "city": "Berlin", "continent": "EU", "lat": 52.52, "long": 13.4}
AUCKLAND = {"country": "NZ", "city": "Auckland", "continent": "OC", "lat": -36.85,
            "long": 174.76}
pytestmark = pytest.mark.usefixtures("ctx")


def at(geo: dict, action: str = "login", minutes_ago: int = 5, **context):
    return make_event(action, created=utcnow() - timedelta(minutes=minutes_ago), geo=geo,
                      **context)


def test_counts_per_place_and_action_with_the_latest_event_and_its_coordinates():
    for minutes in (5, 6, 7):
        at(BERLIN, "login", minutes)
    at(BERLIN, "login_failed", 9)
    newest = at(BERLIN, "model_updated", 2)
    at(AUCKLAND, "login_failed", 30)
    make_event("login")  # no place: not on the map

    summary = places_for(EventFilter())

    berlin, auckland = summary.places
    assert (berlin.label, berlin.count, auckland.label, auckland.count) == (
        "Berlin, DE", 5, "Auckland, NZ", 1)
    assert berlin.actions == (("login", 3), ("login_failed", 1), ("model_updated", 1))
    assert berlin.category == "authentication"
    assert berlin.latest.event_uuid == newest.event_uuid
    assert (berlin.lat, berlin.long) == (52.52, 13.4)
    assert (summary.located, summary.shown, summary.not_shown) == (6, 6, 0)


def test_the_filter_decides_what_is_counted():
    at(BERLIN, "login", 5)
    at(BERLIN, "login_failed", 6)
    at(AUCKLAND, "login_failed", 60 * 30)  # 30 hours ago

    summary = places_for(EventFilter(actions=("login_failed",), period="24h"))

    assert [(place.label, place.actions) for place in summary.places] == [
        ("Berlin, DE", (("login_failed", 1),))]
    assert summary.places[0].latest.action == "login_failed"


def test_the_dominant_category_has_the_most_events_and_ties_follow_the_palette():
    assert dominant_category({"login": 1, "model_created": 2, "model_deleted": 1}) == (
        "directory changes")
    assert dominant_category({"suspicious_request": 2, "login": 2}) == "authentication"
    for _ in range(3):
        at(AUCKLAND, "suspicious_request")
    at(AUCKLAND, "login")
    assert places_for(EventFilter()).places[0].category == "security"


def test_places_are_bounded_busiest_first_and_the_rest_are_counted():
    for index in range(12):
        geo = {"country": "US", "city": f"Town {index:02}", "lat": 30 + index, "long": -100}
        for minute in range(index + 1):
            at(geo, minutes_ago=minute + 1)

    summary = places_for(EventFilter(), limit=5)

    assert [place.city for place in summary.places] == [
        "Town 11", "Town 10", "Town 09", "Town 08", "Town 07"]
    assert summary.located == sum(range(1, 13))
    assert summary.not_shown == sum(range(1, 8))
    assert summary.not_shown_places == 7


def test_grouping_is_one_query_plus_one_for_the_latest_events():
    for index in range(20):
        at({"country": "BR", "city": f"City {index}", "lat": -10, "long": -50 + index})
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        summary = places_for(EventFilter())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(summary.places) == 20
    assert len(statements) == 2, statements
    assert "GROUP BY" in statements[0]


@pytest.mark.parametrize("geo", [
    {"country": "FR", "city": "Paris"},  # no coordinates
    {"country": "FR", "city": "Paris", "lat": "48.8", "long": "2.3"},  # strings
    {"country": "FR", "city": "Paris", "lat": True, "long": 2.3},
    {"country": "FR", "city": "Paris", "lat": 95.0, "long": 2.3},  # off the globe
    {"country": "FR", "city": "Paris", "lat": 48.8, "long": -181},
    {"country": "FR", "city": "Paris", "lat": [48.8], "long": {"x": 1}},
])
def test_a_place_without_usable_coordinates_is_counted_but_not_drawn(geo):
    at(geo)
    at(BERLIN)

    summary = places_for(EventFilter())

    assert [place.label for place in summary.places] == ["Berlin, DE"]
    assert (summary.located, summary.not_shown, summary.not_shown_places) == (2, 1, 1)


def test_a_country_without_a_city_is_a_place_of_its_own():
    at({"country": "IS", "lat": 65.0, "long": -18.0})
    at({"country": "IS", "city": "Reykjavik", "lat": 64.1, "long": -21.9})

    labels = sorted(place.label for place in places_for(EventFilter()).places)

    assert labels == ["IS", "Reykjavik, IS"]


def test_nothing_located_is_an_empty_summary():
    make_event("login")
    summary = places_for(EventFilter())
    assert (summary.places, summary.located, summary.busiest) == ([], 0, 0)


def test_the_grouped_count_reads_an_index_alone_on_sqlite():
    """100,000 events in range are 100,000 index entries, not 100,000 table rows."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    for index in range(30):
        at({"country": "BR", "city": f"City {index % 3}", "lat": -10, "long": -50},
           minutes_ago=index)
    db.session.execute(sa.text("ANALYZE"))
    statements: list[tuple[str, tuple]] = []

    def capture(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        places_for(EventFilter(period="24h"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    grouped, parameters = statements[0]
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {grouped}", parameters)
    plan = " ".join(row[-1] for row in rows)
    assert "COVERING INDEX ix_events_country_created" in plan, plan
