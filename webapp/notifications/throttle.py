"""The throttle: at most one notification per rule and key per `throttle_minutes`.

The key is the rule's `throttle_key` template rendered (sandboxed) over the event, e.g. the
user and the action, so "a burst of failed logins for alice" notifies once while bob's still
get through. The check and the mark are one upsert, so two matchers racing on the same key
let exactly one through.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from webapp.core.extensions import db
from webapp.core.upsert import dialect_insert
from webapp.models import Event, NotificationRule, ThrottleMark
from webapp.policies.event_view import event_variables
from webapp.policies.sandbox import SandboxError, render

log = logging.getLogger("herald.notifications")


def throttle_key(rule: NotificationRule, event: Event) -> str:
    """The rendered key; a key that does not render throttles the whole rule as one key."""
    try:
        return render(rule.throttle_key or "", event_variables(event), timeout=0.5)
    except SandboxError as error:
        log.warning("Throttle key of rule %s does not render: %s", rule.name, error)
        return ""


def admit(rule: NotificationRule, event: Event, now: datetime) -> bool:
    """True when the rule may notify for this event now (and marks the key as used)."""
    if rule.throttle_minutes <= 0:
        return True
    digest = hashlib.sha256(throttle_key(rule, event).encode()).hexdigest()
    cutoff = now - timedelta(minutes=rule.throttle_minutes)
    insert = dialect_insert(ThrottleMark).values(rule_id=rule.id, key=digest, last_sent_at=now)
    claimed = db.session.execute(insert.on_conflict_do_update(
        index_elements=[ThrottleMark.rule_id, ThrottleMark.key],
        set_={"last_sent_at": now},
        where=ThrottleMark.last_sent_at <= cutoff,
    ).returning(ThrottleMark.rule_id)).first()
    return claimed is not None
