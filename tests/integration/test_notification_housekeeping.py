"""Housekeeping around notifications: configuration changes are audited with secrets masked,
and the cleanup job removes what has been read or settled once the retention has passed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.factories import make_rule, make_transport, make_user
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.models import (
    Delivery,
    Event,
    Notification,
    NotificationTransport,
    Settings,
    ThrottleMark,
)
from webapp.notifications.cleanup import delete_settled
from webapp.system.system_settings import get_settings


def _audit(action: str, model_name: str) -> list[Event]:
    db.session.expire_all()
    return [event for event in db.session.scalars(
        sa.select(Event).where(Event.action == action).order_by(Event.created))
        if event.context["model"]["model_name"] == model_name]


def test_a_transport_is_audited_with_its_signing_secret_masked(ctx):
    hook = make_transport("hook", "webhook", webhook_url="https://example.com/hook",
                          signing_secret="very-secret-value")
    hook.signing_secret = "rotated-secret-value"
    db.session.commit()
    [created] = _audit("model_created", "notificationtransport")
    [updated] = _audit("model_updated", "notificationtransport")
    assert created.context["diff"]["webhook_url"]["new_value"] == "https://example.com/hook"
    assert "very-secret" not in str(created.context) and "rotated" not in str(updated.context)
    # A rotation is a change on record, though neither value is (the key alone is cleansed).
    assert updated.context["diff"] == {"signing_secret": "********************"}


def test_rules_policies_and_bindings_are_audited_with_transport_membership(ctx):
    hook = make_transport("hook", "webhook", webhook_url="https://example.com/hook")
    make_rule("alerts", actions=("login_failed",), transports=(hook,))
    [rule_created] = _audit("model_created", "notificationrule")
    assert rule_created.context["diff"]["transports"] == {"add": [hook.pk]}
    assert _audit("model_created", "eventmatcherpolicy")
    assert _audit("model_created", "policybinding")


def _notification(user, *, seen: bool, seen_at) -> Notification:
    note = Notification(severity="notice", body="hello", user_id=user.id, seen=seen,
                        seen_at=seen_at)
    db.session.add(note)
    return note


def test_cleanup_deletes_seen_notifications_and_settled_deliveries_past_the_retention(ctx):
    alice = make_user("alice")
    get_settings().notification_retention = "days=30"
    long_ago, lately = utcnow() - timedelta(days=31), utcnow() - timedelta(days=1)
    _notification(alice, seen=True, seen_at=long_ago)
    kept_seen = _notification(alice, seen=True, seen_at=lately)
    kept_unread = _notification(alice, seen=False, seen_at=None)
    for status, updated in (("sent", long_ago), ("dead", long_ago), ("failed", long_ago),
                            ("sent", lately)):
        db.session.add(Delivery(transport_name="hook", severity="notice", body="b",
                                status=status, updated=updated))
    db.session.commit()

    assert delete_settled() == "Deleted 1 seen notifications and 2 settled deliveries."
    db.session.expire_all()
    assert {note.id for note in db.session.scalars(sa.select(Notification))} == {
        kept_seen.id, kept_unread.id}
    assert sorted(d.status for d in db.session.scalars(sa.select(Delivery))) == [
        "failed", "sent"]
    assert delete_settled() == ""


def test_cleanup_forgets_throttle_marks_once_their_window_has_passed(ctx):
    rule = make_rule("throttled", throttle_minutes=10)
    db.session.add_all([
        ThrottleMark(rule_id=rule.id, key="old", last_sent_at=utcnow() - timedelta(minutes=11)),
        ThrottleMark(rule_id=rule.id, key="new", last_sent_at=utcnow() - timedelta(minutes=9)),
    ])
    db.session.commit()
    delete_settled()
    assert list(db.session.scalars(sa.select(ThrottleMark.key))) == ["new"]


def test_a_damaged_retention_setting_falls_back_to_the_default(ctx):
    settings = get_settings()
    db.session.execute(sa.update(Settings).where(Settings.id == settings.id)
                       .values(notification_retention="nonsense"))
    db.session.add(NotificationTransport(name="bell", mode="local"))
    db.session.commit()
    assert delete_settled() == ""
