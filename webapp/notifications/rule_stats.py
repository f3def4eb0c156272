"""Per rule and hour: how many events matched and how many the throttle suppressed.

Counters are upserts, so matchers in several schedulers add up instead of overwriting each
other. The rules page reads the last 24 hours from here, not from the notifications.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa

from webapp.core.extensions import db
from webapp.core.upsert import dialect_insert
from webapp.models import RuleHourStats


class MatchCounts:
    """One batch's matches, counted in memory and written as one upsert per rule and hour."""

    def __init__(self) -> None:
        self.matched: Counter[tuple[int, datetime]] = Counter()
        self.suppressed: Counter[tuple[int, datetime]] = Counter()

    def add(self, rule_id: int, when: datetime, *, suppressed: bool) -> None:
        key = (rule_id, when.replace(minute=0, second=0, microsecond=0))
        self.matched[key] += 1
        self.suppressed[key] += int(suppressed)

    def save(self) -> None:
        """One executemany of the upsert for every (rule, hour) seen in the batch."""
        if not self.matched:
            return
        insert = dialect_insert(RuleHourStats)
        db.session.execute(insert.on_conflict_do_update(
            index_elements=[RuleHourStats.rule_id, RuleHourStats.hour],
            set_={"matched": RuleHourStats.matched + insert.excluded.matched,
                  "suppressed": RuleHourStats.suppressed + insert.excluded.suppressed}), [
            {"rule_id": rule_id, "hour": hour, "matched": matched,
             "suppressed": self.suppressed[(rule_id, hour)]}
            for (rule_id, hour), matched in self.matched.items()])


def last_day(now: datetime) -> dict[int, tuple[int, int]]:
    """rule id -> (matched, suppressed) over the 24 hours before `now`."""
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    rows = db.session.execute(
        sa.select(RuleHourStats.rule_id, sa.func.sum(RuleHourStats.matched),
                  sa.func.sum(RuleHourStats.suppressed))
        .where(RuleHourStats.hour >= since).group_by(RuleHourStats.rule_id))
    return {rule_id: (int(matched), int(suppressed)) for rule_id, matched, suppressed in rows}
