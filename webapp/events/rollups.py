"""Hourly roll-ups of events: counted once per closed hour, read by the Overview.

Counting a day of events on every Overview load costs a scan of a million rows at a busy site;
counting each hour once, when it has closed, costs one scan of that hour, ever. The Overview
then adds 23-odd stored hours to the partial hours at the window's edges, which it counts live.

Keeping them right:
- Missing hours are rolled up on demand (`ensure_rolled_up`), so a fresh install or a
  just-loaded demo is right at once, without waiting for the periodic job.
- An hour can change after it was counted: an event recorded late with a `created` in the past,
  or retention deleting events. The periodic job (`refresh_rollups`, see webapp/jobs.py) checks
  every stored hour of the last two days against a count of its events through the `created`
  index (cheap: the index alone answers it) and counts again any hour whose total differs; so
  a changed hour is right again within one job period. It also deletes roll-ups older than two
  days, which no page reads.
- An hour counts as closed only GRACE after its end, so an event still being committed at
  the turn of the hour lands in the live part rather than being missed by the roll-up.
- The per-action counts are kept for KEEP_ACTIONS (a month and a bit), because the volume
  charts read them for ranges up to 30 days; the per-user and per-address rows, which only the
  Overview's 24 hours need and which are many, go after KEEP. An hour older than KEEP that is
  rolled up on demand (a chart asking) gets its per-action counts only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event, EventRollup, EventRollupHour, RollupDimension

HOUR = timedelta(hours=1)
GRACE = timedelta(minutes=2)
KEEP = timedelta(days=2)  # how far back the job keeps roll-ups right and detailed
KEEP_ACTIONS = timedelta(days=32)  # per-action counts, for 30-day charts; older ones go

def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def closed_until(now: datetime) -> datetime:
    """The end of the last closed hour: hours before this are rolled up, the rest is live."""
    return hour_floor(now - GRACE)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """The starts of the whole hours in [start, end); `start` is on the hour."""
    hours: list[datetime] = []
    while start + HOUR <= end:
        hours.append(start)
        start += HOUR
    return hours


def ensure_rolled_up(hours: Sequence[datetime], now: datetime | None = None) -> int:
    """Roll up those of these closed hours that have no roll-up yet; returns how many.

    Commits. Two processes filling the same hour at once is harmless: the loser's insert
    fails on the primary key, it rolls back and the winner's rows stand.
    """
    if not hours:
        return 0
    stored = set(db.session.scalars(
        sa.select(EventRollupHour.hour).where(EventRollupHour.hour.in_(hours))))
    missing = [hour for hour in hours if hour not in stored]
    detailed_from = hour_floor((now or utcnow()) - KEEP)
    filled = 0
    for hour in missing:
        try:
            roll_up_hour(hour, detailed=hour >= detailed_from)
            db.session.commit()
            filled += 1
        except IntegrityError:
            db.session.rollback()
    return filled


def roll_up_hour(hour: datetime, detailed: bool = True) -> int:
    """Count one hour's events again from scratch (in the caller's transaction); returns the
    hour's event total. One pass over the hour's events, grouped by (action, username,
    client IP) when `detailed`, else by action alone; the dimensions are summed here."""
    _delete_hours([hour])
    columns = (Event.action, Event.username, Event.client_ip) if detailed else (Event.action,)
    groups = [(row[0], *(row[1:-1] if detailed else (None, None)), row[-1])
              for row in db.session.execute(
                  sa.select(*columns, sa.func.count())
                  .where(Event.created >= hour, Event.created < hour + HOUR)
                  .group_by(*columns))]
    counts: Counter[tuple[str, str, str]] = Counter()
    for action, username, client_ip, count in groups:
        counts[(RollupDimension.ACTION.value, action, "")] += count
        if username is not None:
            counts[(RollupDimension.USERNAME.value, action, username)] += count
        if client_ip is not None:
            counts[(RollupDimension.CLIENT_IP.value, action, client_ip)] += count
    total = sum(count for (dimension, _, _), count in counts.items()
                if dimension == RollupDimension.ACTION.value)
    db.session.add(EventRollupHour(hour=hour, events=total, computed_at=utcnow()))
    db.session.flush()
    if counts:
        db.session.execute(sa.insert(EventRollup), [
            {"dimension": dimension, "action": action, "hour": hour, "value": value,
             "count": count} for (dimension, action, value), count in counts.items()])
    return total


def refresh_rollups(now: datetime | None = None) -> str:
    """The periodic job: count again every closed hour of the last two days whose event total
    changed since it was rolled up (or that was never rolled up), and delete older roll-ups."""
    now = now or utcnow()
    end = closed_until(now)
    start = hour_floor(now - KEEP)
    pruned = _delete_hours_before(hour_floor(now - KEEP_ACTIONS))
    _delete_details_before(start)
    stored = {hour: events for hour, events in db.session.execute(
        sa.select(EventRollupHour.hour, EventRollupHour.events)
        .where(EventRollupHour.hour >= start))}
    hours = hours_between(start, end)
    missing = [hour for hour in hours if hour not in stored]
    changed = [hour for hour in hours if hour in stored and stored[hour] != _events_in_hour(hour)]
    for hour in missing + changed:
        roll_up_hour(hour)
    db.session.commit()
    return (f"Rolled up {len(missing)} new hours, counted {len(changed)} changed hours again, "
            f"deleted {pruned} old hours.")


def action_counts(start: datetime, end: datetime, actions: Sequence[str] = (),
                  now: datetime | None = None) -> dict[tuple[datetime, str], int]:
    """{(hour, action): count} for the closed hours in [start, end) (on the hour), rolling up
    any that are missing; for charts, which add their live edges themselves."""
    hours = hours_between(start, end)
    ensure_rolled_up(hours, now=now)
    query = sa.select(EventRollup.hour, EventRollup.action, EventRollup.count).where(
        EventRollup.dimension == RollupDimension.ACTION.value,
        EventRollup.hour >= start, EventRollup.hour < end)
    if actions:
        query = query.where(EventRollup.action.in_(actions))
    return {(hour, action): count for hour, action, count in db.session.execute(query)}


def _events_in_hour(hour: datetime) -> int:
    """The hour's events through the `created` index alone (no table rows read)."""
    query = sa.select(sa.func.count()).select_from(Event).where(
        Event.created >= hour, Event.created < hour + HOUR)
    return db.session.scalar(query) or 0


def _delete_hours(hours: Iterable[datetime]) -> None:
    hours = list(hours)
    db.session.execute(sa.delete(EventRollup).where(EventRollup.hour.in_(hours)))
    db.session.execute(sa.delete(EventRollupHour).where(EventRollupHour.hour.in_(hours)))


def _delete_details_before(start: datetime) -> None:
    db.session.execute(sa.delete(EventRollup).where(
        EventRollup.hour < start, EventRollup.dimension != RollupDimension.ACTION.value))


def _delete_hours_before(start: datetime) -> int:
    db.session.execute(sa.delete(EventRollup).where(EventRollup.hour < start))
    result = db.session.execute(sa.delete(EventRollupHour).where(EventRollupHour.hour < start))
    return result.rowcount or 0
