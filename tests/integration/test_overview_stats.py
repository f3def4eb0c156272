"""The Overview's figures: the last 24 hours exactly, from hourly roll-ups plus live edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.events import record
from webapp.events.maintenance import delete_expired
from webapp.events.overview_stats import OverviewStats, Ranked, Window, overview_stats
from webapp.events.rollups import refresh_rollups
from webapp.models import Event, EventRollup, EventRollupHour, RollupDimension

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def add(action: str, created: datetime, username: str | None = "bob",
        client_ip: str | None = "192.0.2.1", **context) -> Event:
    user = {"pk": 1, "username": username, "email": ""} if username else {}
    event = record(action, context, user=user, client_ip=client_ip, created=created, app="tests")
    db.session.commit()
    return event


def naive(now: datetime) -> dict[str, int]:
    """The same counters straight from the events: what the roll-ups must add up to."""
    window = sa.select(sa.func.count()).select_from(Event).where(
        Event.created >= now - timedelta(hours=24), Event.created <= now)
    users = sa.select(sa.func.count(sa.distinct(Event.username))).where(
        Event.created >= now - timedelta(hours=24), Event.created <= now)
    return {"events": db.session.scalar(window),
            "logins": db.session.scalar(window.where(Event.action == "login")),
            "failed_logins": db.session.scalar(window.where(Event.action == "login_failed")),
            "suspicious": db.session.scalar(window.where(Event.action == "suspicious_request")),
            "unique_users": db.session.scalar(users)}


def counters(stats: OverviewStats) -> dict[str, int]:
    return {name: getattr(stats, name) for name in
            ("events", "logins", "failed_logins", "suspicious", "unique_users")}


def test_only_events_of_the_last_24_hours_count_edges_included(ctx):
    add("login", NOW - timedelta(hours=24, seconds=1), username="too-old")
    add("login", NOW - timedelta(hours=24), username="first")  # the window's very start
    add("login_failed", NOW - timedelta(hours=23, minutes=59), username="edge")
    add("suspicious_request", NOW - timedelta(hours=5), username=None)  # a closed hour
    add("login", NOW - timedelta(minutes=1), username="recent")  # the live hour
    add("login", NOW, username="last")  # the window's very end
    add("login", NOW + timedelta(seconds=1), username="future")

    stats = overview_stats(NOW)

    assert counters(stats) == {"events": 5, "logins": 3, "failed_logins": 1, "suspicious": 1,
                               "unique_users": 4}
    assert (stats.start, stats.end) == (NOW - timedelta(hours=24), NOW)


@pytest.mark.parametrize("now", [
    NOW,                                              # half past: two half-hour edges
    NOW.replace(minute=0),                            # on the hour: no trailing edge
    NOW.replace(minute=1, second=30),                 # inside the grace after the hour
    NOW.replace(minute=59, second=59, microsecond=999_999),
])
def test_roll_ups_and_live_edges_add_up_to_a_plain_count(ctx, now):
    actions = ("login", "login", "login_failed", "logout", "suspicious_request", "model_updated")
    for step in range(0, 26 * 60, 17):  # an event every 17 minutes across 26 hours
        add(actions[step % len(actions)], now - timedelta(minutes=step, seconds=7),
            username=f"user{step % 7}" if step % 5 else None,
            client_ip=f"198.51.100.{step % 4}")

    stats = overview_stats(now)

    assert counters(stats) == naive(now)
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(EventRollupHour))
    assert stored == len(Window.ending(now).hours) >= 22


def test_missing_hours_are_rolled_up_on_first_load_and_only_once(ctx):
    add("login", NOW - timedelta(hours=3))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventRollupHour)) == 0

    overview_stats(NOW)
    first = {row.hour: row.computed_at for row in db.session.scalars(sa.select(EventRollupHour))}
    overview_stats(NOW + timedelta(minutes=10))  # the same closed hours: nothing to do
    again = {row.hour: row.computed_at for row in db.session.scalars(sa.select(EventRollupHour))}

    assert len(first) == 23 and again == first  # 13:00 yesterday to 12:00 today
    hour = (NOW - timedelta(hours=3)).replace(minute=0)
    login = db.session.get(EventRollup, ("action", "login", hour, ""))
    assert login.count == 1 and db.session.get(EventRollupHour, hour).events == 1


def test_closed_hours_are_read_from_the_roll_ups_not_from_the_events(ctx):
    add("login", NOW - timedelta(hours=3))
    overview_stats(NOW)
    hour = (NOW - timedelta(hours=3)).replace(minute=0)
    db.session.get(EventRollup, ("action", "login", hour, "")).count = 40
    db.session.get(EventRollupHour, hour).events = 40
    db.session.commit()

    assert overview_stats(NOW).logins == 40 and overview_stats(NOW).events == 40


def test_the_job_is_idempotent_and_fills_what_is_missing(ctx):
    for hours in (1, 5, 30):
        add("login_failed", NOW - timedelta(hours=hours), username=f"u{hours}")

    first = refresh_rollups(NOW)
    rows = sorted((r.dimension, r.action, r.hour, r.value, r.count)
                  for r in db.session.scalars(sa.select(EventRollup)))
    second = refresh_rollups(NOW)
    rows_again = sorted((r.dimension, r.action, r.hour, r.value, r.count)
                        for r in db.session.scalars(sa.select(EventRollup)))

    assert first == "Rolled up 48 new hours, counted 0 changed hours again, deleted 0 old hours."
    assert second == "Rolled up 0 new hours, counted 0 changed hours again, deleted 0 old hours."
    assert rows == rows_again and len(rows) == 3 * 3  # per action, username, client IP


def test_an_event_recorded_late_into_a_closed_hour_is_counted_after_the_next_job(ctx):
    add("login", NOW - timedelta(hours=2))
    assert overview_stats(NOW).logins == 1
    add("login", NOW - timedelta(hours=2, minutes=10), username="late")  # backdated

    assert "counted 1 changed hours again" in refresh_rollups(NOW)
    stats = overview_stats(NOW)
    assert stats.logins == 2 and stats.unique_users == 2
    assert counters(stats) == naive(NOW)


def test_events_deleted_by_retention_leave_the_counters_after_the_next_job(ctx):
    gone = add("login_failed", NOW - timedelta(hours=6), username="gone")
    add("login_failed", NOW - timedelta(hours=6), username="stays")
    assert overview_stats(NOW).failed_logins == 2
    gone.expires = datetime(2000, 1, 1, tzinfo=UTC)
    db.session.commit()
    assert delete_expired() == 1

    refresh_rollups(NOW)

    stats = overview_stats(NOW)
    assert stats.failed_logins == 1
    assert stats.top_failed_usernames == [Ranked("stays", 1)]


def test_the_job_keeps_per_action_counts_for_a_month_and_details_for_two_days(ctx):
    add("login", NOW - timedelta(days=3))
    add("login", NOW - timedelta(days=40))
    refresh_rollups(NOW - timedelta(days=39))  # then, both hours were recent
    refresh_rollups(NOW - timedelta(days=2))
    three_days = (NOW - timedelta(days=3)).replace(minute=0)
    assert db.session.get(EventRollupHour, three_days) is not None

    message = refresh_rollups(NOW)

    assert db.session.get(EventRollupHour, three_days) is not None
    kept = db.session.execute(sa.select(EventRollup.dimension, EventRollup.count).where(
        EventRollup.hour == three_days)).all()
    assert kept == [("action", 1)]  # the per-user and per-address rows are gone
    assert db.session.scalar(sa.select(sa.func.min(EventRollupHour.hour))) >= \
        NOW - timedelta(days=32, hours=1)  # the hour 40 days back is gone
    assert "Rolled up 48 new hours" in message


def test_top_lists_rank_by_events_across_roll_ups_and_live_edges(ctx):
    for username, count in (("carol", 4), ("dave", 2), ("erin", 2), ("frank", 1), ("gina", 1),
                            ("hank", 1)):
        for i in range(count):  # half in closed hours, half in the live hour
            add("login", NOW - (timedelta(hours=4) if i % 2 else timedelta(minutes=5)),
                username=username)
    for ip, count in (("203.0.113.9", 3), ("2001:db8::1", 2)):
        for i in range(count):
            add("login_failed", NOW - timedelta(hours=i * 10, minutes=3), username="root",
                client_ip=ip)
    add("login_failed", NOW - timedelta(hours=25), username="ancient", client_ip="203.0.113.77")

    stats = overview_stats(NOW)

    assert stats.top_users == [Ranked("root", 5), Ranked("carol", 4), Ranked("dave", 2),
                               Ranked("erin", 2), Ranked("frank", 1)]
    assert stats.top_failed_usernames == [Ranked("root", 5)]
    assert stats.top_failed_ips == [Ranked("203.0.113.9", 3), Ranked("2001:db8::1", 2)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventRollup).where(
        EventRollup.dimension == RollupDimension.CLIENT_IP.value)) > 0


def test_an_empty_database_gives_zeros_and_empty_lists(ctx):
    stats = overview_stats(NOW)

    assert counters(stats) == dict.fromkeys(counters(stats), 0)
    assert stats.top_users == stats.top_failed_usernames == stats.top_failed_ips == []
