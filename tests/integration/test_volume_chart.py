"""The colour-coded volume chart: one grouped query, buckets that follow the range, segments
in the palette's colours, and links that narrow the view to one action."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.integration.test_logs_filters import _Args
from webapp.core.extensions import db
from webapp.events import record
from webapp.events.filters import parse_filters
from webapp.models import EventRollupHour
from webapp.reports.palette import swatch
from webapp.reports.volume import DAY, HOUR, grouped_counts, live_counts, volume_chart

NOW = datetime(2026, 11, 21, 12, 30, tzinfo=UTC)


@pytest.fixture
def spread(app):
    """Sign-ins and failures at known hours before NOW."""
    with app.app_context():
        for hours_ago, action, user in [(1, "login", "alice"), (1, "login", "bob"),
                                        (1, "login_failed", "alice"), (3, "login", "alice"),
                                        (50, "model_updated", "alice"), (200, "login", "bob")]:
            record(action, {}, app="tests.chart", client_ip="10.0.0.1",
                   user={"pk": 1, "username": user, "email": ""},
                   created=NOW - timedelta(hours=hours_ago, minutes=5))
        db.session.commit()


def chart_for(**args):
    return volume_chart(parse_filters(_Args(app="tests.chart", **args)).filter, now=NOW)


def test_a_day_is_counted_per_hour_from_one_grouped_query(app, spread):
    with app.app_context():
        chart = chart_for(period="24h")
    assert chart.unit is HOUR
    assert chart.total == 4
    assert {s.name: s.total for s in chart.series} == {"login": 3, "login_failed": 1}
    eleven = [seg for seg in chart.segments if seg.title.startswith("21 Nov 11:00")]
    assert {(seg.name, seg.count) for seg in eleven} == {("login", 2), ("login_failed", 1)}
    assert chart.peak == 3
    assert all(seg.colour == swatch(seg.name).colour for seg in chart.segments)


def test_longer_ranges_are_counted_per_day_and_the_default_is_a_week(app, spread):
    with app.app_context():
        month = chart_for(period="30d")
        default = chart_for()
    assert month.unit is DAY and month.total == 6
    assert default.unit is DAY and default.total == 5  # 200 hours ago is outside the week
    assert default.end - default.start == timedelta(days=7)


def test_the_chart_follows_the_other_filters(app, spread):
    with app.app_context():
        alice = chart_for(period="30d", username="alice")
    assert alice.total == 4
    assert {s.name for s in alice.series} == {"login", "login_failed", "model_updated"}


def test_the_chart_route_draws_bars_and_legend_links_that_narrow_to_one_action(app, spread,
                                                                             admin_client):
    page = admin_client.get("/events/chart?app=tests.chart&period=30d&username=alice").text
    assert page.count("<rect ") == 3  # login and login_failed on one day, an update on another
    legend = re.findall(r'class="herald-legend-item" href="([^"]+)"', page)
    narrowed = {frozenset(link.split("?", 1)[1].split("&amp;")) for link in legend}
    assert frozenset({"action=login_failed", "app=tests.chart", "period=30d",
                      "username=alice"}) in narrowed
    assert 'role="group" aria-label="Events per day' in page


def test_an_empty_range_says_so(app, admin_client):
    page = admin_client.get("/events/chart?app=nothing-here").text
    assert "No events in this time range." in page


def test_the_logs_page_loads_the_chart_for_its_filter_after_the_table(admin_client):
    page = admin_client.get("/events/?action=login&period=24h").text
    assert 'hx-get="/events/chart?action=login&amp;period=24h"' in page


@pytest.mark.parametrize("period, unit", [("24h", HOUR), ("30d", DAY)])
def test_a_filter_of_actions_and_time_reads_the_hourly_roll_ups_and_agrees_with_a_live_count(
        app, spread, period, unit):
    with app.app_context():
        filters = parse_filters(_Args(period=period, action=["login", "login_failed"])).filter
        start, end = NOW - (timedelta(hours=24) if period == "24h" else timedelta(days=30)), NOW
        from_rollups = grouped_counts(filters, start, end, unit, NOW)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventRollupHour)) > 0
        assert from_rollups == live_counts(filters, start, end, unit)
        assert sum(from_rollups.values()) == (3 + 1 if period == "24h" else 4 + 1)


def test_the_overview_charts_sign_ins_per_hour_and_categories_of_the_last_day(app, admin_client):
    with app.app_context():
        record("login_failed", {}, app="tests", created=NOW.replace(year=2025))  # long gone
        record("model_created", {}, app="tests")
        db.session.commit()
    overview = admin_client.get("/overview").text
    assert 'hx-get="/overview/charts/sign-ins"' in overview
    sign_ins = admin_client.get("/overview/charts/sign-ins").text
    assert "Sign-ins and failed sign-ins per hour, last 7 days" in sign_ins
    assert "Events per hour" in sign_ins
    assert re.findall(r'data-series="([^"]+)"', sign_ins) == ["login"]  # the admin's sign-in
    categories = admin_client.get("/overview/charts/categories").text
    assert set(re.findall(r'data-series="([^"]+)"', categories)) == {
        "authentication", "directory changes"}
    assert admin_client.get("/overview/charts/nope").status_code == 404


def test_a_preset_range_is_drawn_whole_and_a_very_long_one_starts_at_the_oldest_event(app,
                                                                                     spread):
    with app.app_context():
        day = chart_for(period="24h")
        since_2000 = chart_for(period="custom", since="2000-01-01")
    assert day.end - day.start == timedelta(hours=24)
    assert len([tick for tick in day.ticks]) > 1
    assert since_2000.start == NOW - timedelta(hours=200, minutes=5)  # the oldest event
