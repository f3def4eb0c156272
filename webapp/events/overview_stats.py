"""The Overview's figures for the last 24 hours: counters and top lists.

Each figure is the sum of two parts that never overlap: the closed hours inside the window,
read from the hourly roll-ups (webapp/events/rollups.py), and the partial hours at the window's
two edges (together about one hour), counted live from the events through their indexes. So a
load reads the roll-ups and one hour of events, never the whole day.

That hour still costs a few hundred milliseconds at a million events a day (the top lists and
unique users need each edge event's row, not just an index), so the page keeps the assembled
figures for CACHE_SECONDS per process (`recent_overview_stats`): a dashboard half a minute old
is fine, and the Overview then answers in a few milliseconds however busy the site is.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

import sqlalchemy as sa

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.events.rollups import closed_until, ensure_rolled_up, hour_floor, hours_between
from webapp.models import Event, EventAction, EventRollup, EventRollupHour, RollupDimension

WINDOW = timedelta(hours=24)
TOP = 5
CACHE_SECONDS = 30.0
_CACHE_KEY = "herald.overview_stats"
COUNTED_ACTIONS = (EventAction.LOGIN, EventAction.LOGIN_FAILED, EventAction.SUSPICIOUS_REQUEST)


@dataclass(frozen=True)
class Window:
    """[start, end] split into live edges and the closed hours between them."""

    start: datetime
    end: datetime
    hours_start: datetime  # first rolled-up hour
    hours_end: datetime  # end of the last rolled-up hour

    @classmethod
    def ending(cls, now: datetime) -> Window:
        start = now - WINDOW
        first = hour_floor(start)
        first = first if first == start else first + timedelta(hours=1)
        return cls(start, now, first, max(first, closed_until(now)))

    @property
    def hours(self) -> list[datetime]:
        return hours_between(self.hours_start, self.hours_end)

    def live(self) -> list[sa.ColumnElement[bool]]:
        """The events of the two edges, which the roll-ups do not hold: one condition per edge,
        since one range each is what the databases turn into an index range scan (SQLite
        turned the two ORed together into a scan of every event of an action)."""
        edges = [sa.and_(Event.created >= self.hours_end, Event.created <= self.end)]
        if self.start < self.hours_start:
            edges.append(sa.and_(Event.created >= self.start, Event.created < self.hours_start))
        return edges

    def rolled(self, dimension: RollupDimension) -> sa.ColumnElement[bool]:
        return sa.and_(EventRollup.dimension == dimension.value,
                       EventRollup.hour >= self.hours_start, EventRollup.hour < self.hours_end)


@dataclass(frozen=True)
class Ranked:
    value: str
    count: int


@dataclass(frozen=True)
class OverviewStats:
    start: datetime
    end: datetime
    events: int
    logins: int
    failed_logins: int
    suspicious: int
    unique_users: int
    top_users: list[Ranked]
    top_failed_usernames: list[Ranked]
    top_failed_ips: list[Ranked]


def recent_overview_stats(store: MutableMapping[str, Any],
                          max_age: float = CACHE_SECONDS) -> OverviewStats:
    """The figures, reused from `store` (the app's extensions: one per process and app) while
    they are younger than `max_age` seconds."""
    kept = store.get(_CACHE_KEY)
    if kept is not None and monotonic() - kept[0] < max_age:
        return kept[1]
    stats = overview_stats()
    store[_CACHE_KEY] = (monotonic(), stats)
    return stats


def overview_stats(now: datetime | None = None) -> OverviewStats:
    """The figures for the 24 hours up to `now`; rolls up any closed hour still missing."""
    window = Window.ending(now or utcnow())
    ensure_rolled_up(window.hours, now=window.end)
    per_action = _per_action(window)
    failed = EventAction.LOGIN_FAILED.value
    # Every username with its events: how many there are is the unique-users counter, and the
    # first few are the top list (one pass over the live edges instead of two).
    usernames = _ranked(window, RollupDimension.USERNAME, Event.username)
    return OverviewStats(
        start=window.start, end=window.end, events=_events(window),
        logins=per_action.get(EventAction.LOGIN.value, 0),
        failed_logins=per_action.get(failed, 0),
        suspicious=per_action.get(EventAction.SUSPICIOUS_REQUEST.value, 0),
        unique_users=len(usernames),
        top_users=usernames[:TOP],
        top_failed_usernames=_ranked(window, RollupDimension.USERNAME, Event.username, failed,
                                     limit=TOP),
        top_failed_ips=_ranked(window, RollupDimension.CLIENT_IP, Event.client_ip, failed,
                               limit=TOP),
    )


def _events(window: Window) -> int:
    rolled = sa.select(sa.func.coalesce(sa.func.sum(EventRollupHour.events), 0)).where(
        EventRollupHour.hour >= window.hours_start, EventRollupHour.hour < window.hours_end)
    total = int(db.session.scalar(rolled) or 0)
    for edge in window.live():
        total += db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(edge)) or 0
    return total


def _per_action(window: Window) -> dict[str, int]:
    actions = [action.value for action in COUNTED_ACTIONS]
    rolled = sa.select(EventRollup.action.label("key"), EventRollup.count.label("n")).where(
        window.rolled(RollupDimension.ACTION), EventRollup.action.in_(actions))
    live = [sa.select(Event.action.label("key"), sa.func.count().label("n"))
            .where(edge, Event.action.in_(actions)).group_by(Event.action)
            for edge in window.live()]
    return dict(_summed(rolled, *live))


def _ranked(window: Window, dimension: RollupDimension, column: sa.ColumnElement,
            action: str | None = None, limit: int | None = None) -> list[Ranked]:
    """The values of a dimension by their events (of one action, or of all), most first."""
    rolled = sa.select(EventRollup.value.label("key"), EventRollup.count.label("n")).where(
        window.rolled(dimension))
    if action is not None:
        rolled = rolled.where(EventRollup.action == action)
    live = []
    for edge in window.live():
        query = sa.select(column.label("key"), sa.func.count().label("n")).where(
            edge, column.is_not(None)).group_by(column)
        live.append(query if action is None else query.where(Event.action == action))
    return [Ranked(key, count) for key, count in _summed(rolled, *live, limit=limit)]


def _summed(*parts: sa.Select, limit: int | None = None) -> list[tuple[str, int]]:
    """(key, total) of all parts added up, largest first (ties by key, for a stable order)."""
    both = sa.union_all(*parts).subquery()
    total = sa.func.sum(both.c.n).label("total")
    query = sa.select(both.c.key, total).group_by(both.c.key).order_by(total.desc(), both.c.key)
    if limit is not None:
        query = query.limit(limit)
    return [(key, int(count)) for key, count in db.session.execute(query).all()]
