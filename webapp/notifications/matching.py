"""The outbox matcher: each committed event against the enabled rules, exactly once.

One job run claims a batch from the outbox, loads the rules once (webapp.policies.RuleSet),
and for every rule an event passes: counts the match, asks the throttle, finds the
recipients and creates the notifications and deliveries. All of it commits together with
the outbox rows' deletion, so a crash anywhere repeats the whole batch and nothing is half
done. It runs in every scheduler process (the outbox claim keeps batches disjoint).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import Event
from webapp.notifications import outbox
from webapp.notifications.dispatch import notify
from webapp.notifications.recipients import Recipients
from webapp.notifications.rule_stats import MatchCounts
from webapp.notifications.throttle import admit
from webapp.policies.engine import RuleSet

BATCH = 500
#: A run keeps taking batches while there are some, for at most this long.
RUN_SECONDS = 20.0


def match_pending() -> str:
    """The job: match outbox batches until it is empty; a one-line result, empty when idle."""
    deadline, events, made = time.monotonic() + RUN_SECONDS, 0, 0
    while time.monotonic() < deadline:
        batch_events, batch_made = match_batch()
        if not batch_events:
            break
        events, made = events + batch_events, made + batch_made
    return f"Matched {events} events: {made} notifications and deliveries." if events else ""


def match_batch(limit: int = BATCH) -> tuple[int, int]:
    """Claim and match one batch; commits. (events matched, notifications + deliveries)."""
    event_ids = outbox.claim(limit)
    if not event_ids:
        db.session.rollback()
        return 0, 0
    events = db.session.scalars(sa.select(Event).where(Event.event_uuid.in_(event_ids))
                                .order_by(Event.created, Event.event_uuid)).all()
    rules, stats, people = RuleSet.load(), MatchCounts(), Recipients()
    made = sum(_match_event(rules, event, stats, people) for event in events)
    stats.save()
    db.session.commit()
    return len(event_ids), made


def _match_event(rules: RuleSet, event: Event, stats: MatchCounts, people: Recipients) -> int:
    made, now = 0, utcnow()
    for rule in rules.matching(event):
        admitted = admit(rule, event, now)
        stats.add(rule.id, now, suppressed=not admitted)
        if admitted:
            made += notify(rule, event, people.of(rule, event))
    return made
