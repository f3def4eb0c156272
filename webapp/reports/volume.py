"""The colour-coded volume chart: events per action over time, for the current filter.

The counts come from one grouped SQL query (time bucket x action), never a loop over events.
The chart is drawn on the server as SVG geometry (templates/reports/_volume_chart.html), so it
needs no script, runs under the strict CSP and redraws with every htmx swap of the results.
Buckets are hours for ranges up to three days and days beyond; without a time filter the
chart shows the last seven days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from webapp.core.extensions import db
from webapp.events.filters import EventFilter
from webapp.events.rollups import HOUR as HOUR_STEP
from webapp.events.rollups import KEEP_ACTIONS, action_counts, closed_until, hour_floor
from webapp.models import Event
from webapp.reports.palette import CATEGORIES, CATEGORY_COLOURS, swatch

DEFAULT_SPAN = timedelta(days=7)
HOURLY_UP_TO = timedelta(days=3)
CLIP_AFTER = timedelta(days=31)
#: The drawing's coordinate system (the SVG scales to its container's width, so a chart
#: meant for half the page is drawn half as wide and its labels stay readable).
WIDE, NARROW = 1000, 500
HEIGHT, LEFT, BOTTOM, TOP = 200, 44, 22, 8
TICK_SPACING = 120  # at least this far apart, in drawing units


class _Bucket(FunctionElement):
    """The start of a row's hour or day as text, "YYYY-MM-DD HH" or "YYYY-MM-DD"."""

    inherit_cache = True
    type = sa.String()
    chars = 0
    pg_pattern = ""


class _HourBucket(_Bucket):
    inherit_cache = True
    chars = 13
    pg_pattern = "YYYY-MM-DD HH24"


class _DayBucket(_Bucket):
    inherit_cache = True
    chars = 10
    pg_pattern = "YYYY-MM-DD"


@compiles(_Bucket, "postgresql")
def _bucket_postgresql(element: _Bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', '{element.pg_pattern}')"


@compiles(_Bucket)
def _bucket_sqlite(element: _Bucket, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" text (webapp.core.db_types).
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"substr({column}, 1, {element.chars})"


@dataclass(frozen=True)
class Unit:
    name: str
    step: timedelta
    bucket: type[_Bucket]  # the SQL that names a row's bucket
    label_format: str


HOUR = Unit("hour", timedelta(hours=1), _HourBucket, "%d %b %H:00")
DAY = Unit("day", timedelta(days=1), _DayBucket, "%d %b")


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    name: str
    actions: tuple[str, ...]  # what a click on it narrows the view to
    count: int
    title: str


@dataclass(frozen=True)
class Series:
    name: str  # an action, or a category when the chart groups by category
    colour: str
    total: int
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class VolumeChart:
    unit: Unit
    start: datetime
    end: datetime
    series: list[Series]
    segments: list[Segment]
    ticks: list[Tick]
    peak: int
    total: int
    width: int

    @property
    def summary(self) -> str:
        """What a screen reader hears for the drawing (the legend lists the totals)."""
        busiest = ", ".join(f"{s.name} {s.total:,}" for s in self.series[:3])
        return (f"Events per {self.unit.name} from {self.start:%d %b %Y %H:%M} to "
                f"{self.end:%d %b %Y %H:%M} UTC: {self.total:,} in all"
                + (f"; most: {busiest}" if busiest else ""))


def volume_chart(filters: EventFilter, now: datetime | None = None, unit: Unit | None = None,
                 by_category: bool = False, width: int = WIDE) -> VolumeChart:
    """The chart for a filter; `unit` forces the bucket size, `by_category` stacks the
    palette's categories instead of single actions, `width` is NARROW for half-page cards."""
    now = now or datetime.now(UTC)
    start, end = chart_window(filters, now)
    unit = unit or (HOUR if end - start <= HOURLY_UP_TO else DAY)
    counts = grouped_counts(filters, start, end, unit, now)
    if by_category:
        counts, members = _by_category(counts)
    else:
        members = {action: (action,) for _, action in counts}
    return draw(counts, members, _bucket_starts(start, end, unit), unit, start, end, width)


def chart_window(filters: EventFilter, now: datetime) -> tuple[datetime, datetime]:
    """The filter's time range, or the last seven days. A range longer than a month starts
    no earlier than the oldest event, so "since 2000" does not draw decades of empty days;
    shorter ones are drawn whole, empty hours included, as the reader asked."""
    since, until = filters.window(now)
    end = min(until or now, now)
    if since is None:
        return end - DEFAULT_SPAN, end
    if end - since > CLIP_AFTER:
        oldest = db.session.scalar(sa.select(sa.func.min(Event.created)))
        since = max(since, oldest or since)
    return (since, end) if since < end else (end - DEFAULT_SPAN, end)


def grouped_counts(filters: EventFilter, start: datetime, end: datetime, unit: Unit,
                   now: datetime) -> dict[tuple[datetime, str], int]:
    """{(bucket start, action): count}. A filter of actions and time alone is answered from
    the hourly roll-ups plus the partial hours at its edges (a 30-day chart of a million
    events then reads ~720 stored hours instead of the events); any other filter by one
    GROUP BY over the events it selects."""
    if not filters.only_actions_and_time:
        return live_counts(filters, start, end, unit)
    first = max(_next_hour(start), hour_floor(now - KEEP_ACTIONS) + HOUR_STEP)
    last = min(closed_until(now), hour_floor(end))
    by_actions = EventFilter(actions=filters.actions)
    if first >= last:
        return live_counts(by_actions, start, end, unit)
    counts: Counter[tuple[datetime, str]] = Counter()
    for (hour, action), count in action_counts(first, last, filters.actions, now).items():
        counts[(_floor(hour, unit), action)] += count
    for edge_start, edge_end in ((start, first), (last, end)):
        if edge_start < edge_end:
            counts.update(live_counts(by_actions, edge_start, edge_end, unit))
    return dict(counts)


def live_counts(filters: EventFilter, start: datetime, end: datetime,
                unit: Unit) -> dict[tuple[datetime, str], int]:
    """{(bucket start, action): count} from one GROUP BY over the filtered events between
    `start` and `end`, which replace the filter's own period: applied here, a relative one
    would be measured from the clock instead of from the chart's `now`."""
    bucket = unit.bucket(Event.created).label("bucket")
    untimed = replace(filters, period="", since=None, until=None)
    query = untimed.apply(sa.select(bucket, Event.action, sa.func.count())
                          .where(Event.created >= start, Event.created < end))
    rows = db.session.execute(query.group_by(bucket, Event.action))
    return {(_parse_bucket(key), action): count for key, action, count in rows}


def draw(counts: dict[tuple[datetime, str], int], members: dict[str, tuple[str, ...]],
         buckets: list[datetime], unit: Unit, start: datetime, end: datetime,
         width: int = WIDE) -> VolumeChart:
    """Geometry for counts keyed by (bucket, series name); `members` are the actions each
    series stands for (its colour and its link)."""
    totals: dict[str, int] = defaultdict(int)
    per_bucket: dict[datetime, int] = defaultdict(int)
    for (bucket, name), count in counts.items():
        totals[name] += count
        per_bucket[bucket] += count
    series = [Series(name, _colour(name), totals[name], members[name])
              for name in sorted(totals, key=lambda n: (_category_rank(n), -totals[n], n))]
    peak = max(per_bucket.values(), default=0)
    slot = (width - LEFT) / max(len(buckets), 1)
    segments = list(_segments(counts, buckets, series, unit, peak, slot))
    return VolumeChart(unit, start, end, series, segments, _ticks(buckets, unit, slot), peak,
                       sum(totals.values()), width)


def _by_category(counts: dict[tuple[datetime, str], int]
                 ) -> tuple[dict[tuple[datetime, str], int], dict[str, tuple[str, ...]]]:
    regrouped: Counter[tuple[datetime, str]] = Counter()
    members: dict[str, set[str]] = defaultdict(set)
    for (bucket, action), count in counts.items():
        category = swatch(action).category
        regrouped[(bucket, category)] += count
        members[category].add(action)
    return dict(regrouped), {name: tuple(sorted(found)) for name, found in members.items()}


def _colour(name: str) -> str:
    return CATEGORY_COLOURS[name] if name in CATEGORY_COLOURS else swatch(name).colour


def _category_rank(name: str) -> int:
    return CATEGORIES.index(name if name in CATEGORY_COLOURS else swatch(name).category)


def _segments(counts: dict[tuple[datetime, str], int], buckets: list[datetime],
              series: list[Series], unit: Unit, peak: int, slot: float) -> Iterable[Segment]:
    plot_height = HEIGHT - BOTTOM - TOP
    for index, bucket in enumerate(buckets):
        base = HEIGHT - BOTTOM
        for line in series:
            count = counts.get((bucket, line.name), 0)
            if not count:
                continue
            height = plot_height * count / peak
            base -= height
            yield Segment(x=round(LEFT + index * slot + slot * 0.1, 2), y=round(base, 2),
                          width=round(slot * 0.8, 2), height=round(height, 2),
                          colour=line.colour, name=line.name, actions=line.actions, count=count,
                          title=f"{bucket.strftime(unit.label_format)}: {line.name} {count:,}")


def _ticks(buckets: list[datetime], unit: Unit, slot: float) -> list[Tick]:
    every = max(1, round(TICK_SPACING / slot))
    return [Tick(round(LEFT + index * slot + slot / 2, 2), bucket.strftime(unit.label_format))
            for index, bucket in enumerate(buckets) if index % every == 0]


def _floor(moment: datetime, unit: Unit) -> datetime:
    hour = hour_floor(moment)
    return hour.replace(hour=0) if unit is DAY else hour


def _next_hour(moment: datetime) -> datetime:
    hour = hour_floor(moment)
    return hour if hour == moment else hour + HOUR_STEP


def _bucket_starts(start: datetime, end: datetime, unit: Unit) -> list[datetime]:
    first = _floor(start, unit)
    buckets = []
    while first < end:
        buckets.append(first)
        first += unit.step
    return buckets


def _parse_bucket(key: str) -> datetime:
    text = key.replace("T", " ")
    return datetime.strptime(text, "%Y-%m-%d %H" if len(text) > 10 else "%Y-%m-%d").replace(
        tzinfo=UTC)
