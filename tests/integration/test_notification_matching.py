"""The outbox matcher: every committed event is matched once, and a matched rule notifies the
right people through the right transports."""

from __future__ import annotations

import sqlalchemy as sa

from tests.factories import make_group, make_rule, make_transport, make_user
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import (
    Delivery,
    Event,
    EventOutbox,
    ExpressionPolicy,
    Notification,
    NotificationRule,
    PolicyBinding,
    RuleHourStats,
)
from webapp.notifications import outbox
from webapp.notifications.matching import match_batch, match_pending


def _rows(model) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model)))


def _failed_login(user, **context):
    event = record("login_failed", {"message": f"Bad password for {user.username}", **context},
                   user=user, app="tests")
    db.session.commit()
    return event


def test_an_event_enters_the_outbox_in_its_own_transaction(ctx):
    event = record("login_failed", {}, app="tests")
    db.session.commit()
    assert [row.event_id for row in _rows(EventOutbox)] == [event.event_uuid]

    record("login_failed", {}, app="tests")
    db.session.rollback()
    assert outbox.pending() == 1


def test_each_event_is_matched_exactly_once(ctx):
    alice = make_user("alice")
    local = make_transport("bell", "local")
    make_rule(actions=("login_failed",), transports=(local,), group=make_group("ops", alice))
    match_pending()  # the set-up's own audit events
    _failed_login(alice)

    assert match_batch() == (1, 1)
    assert match_batch() == (0, 0)
    assert outbox.pending() == 0
    assert len(_rows(Notification)) == 1


def test_the_bell_notification_says_what_happened_and_links_to_the_event(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    local = make_transport("bell", "local")
    make_rule(actions=("login_failed",), transports=(local,), group=make_group("ops", alice, bob),
              severity="alert")
    match_pending()  # the set-up's own audit events
    event = _failed_login(alice)

    assert match_pending() == "Matched 1 events: 2 notifications and deliveries."
    notes = sorted(_rows(Notification), key=lambda note: note.user_id)
    assert [(note.user_id, note.severity, note.body, note.hyperlink, note.seen)
            for note in notes] == [
        (alice.id, "alert", "Bad password for alice", f"/events/{event.pk}", False),
        (bob.id, "alert", "Bad password for alice", f"/events/{event.pk}", False),
    ]
    assert notes[0].event_id == event.event_uuid


def test_a_body_without_message_says_what_happened_in_words(ctx):
    alice = make_user("alice")
    make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
              group=make_group("ops", alice))
    record("login_failed", {"username": "mallory"}, user=alice, app="tests")
    db.session.commit()
    match_pending()
    assert _rows(Notification)[0].body == "Failed sign-in as “mallory”"


def test_an_idle_run_reports_nothing(ctx):
    assert match_pending() == ""


def test_a_rule_that_does_not_match_or_has_no_bindings_never_fires(ctx):
    alice = make_user("alice")
    local = make_transport("bell", "local")
    group = make_group("ops", alice)
    make_rule("logins only", actions=("login",), transports=(local,), group=group)
    make_rule("no bindings", actions=(), transports=(local,), group=group)
    _failed_login(alice)
    match_pending()
    assert _rows(Notification) == []


def test_a_disabled_rule_never_fires(ctx):
    alice = make_user("alice")
    make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
              group=make_group("ops", alice), enabled=False)
    _failed_login(alice)
    match_pending()
    assert _rows(Notification) == []


def test_the_event_user_and_the_group_each_get_one_message(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    hook = make_transport("hook", "webhook", webhook_url="http://127.0.0.1:9/hook")
    make_rule(actions=("login_failed",), transports=(hook,), group=make_group("ops", alice, bob),
              destination_event_user=True)
    _failed_login(alice)
    match_pending()
    assert sorted(d.recipient_id for d in _rows(Delivery)) == sorted([alice.id, bob.id])


def test_only_the_event_user_when_there_is_no_group(ctx):
    alice, _bob = make_user("alice"), make_user("bob")
    make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
              destination_event_user=True)
    _failed_login(alice)
    match_pending()
    assert [note.user_id for note in _rows(Notification)] == [alice.id]


def test_inactive_users_are_not_notified(ctx):
    alice, bob = make_user("alice"), make_user("bob", is_active=False)
    make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
              group=make_group("ops", alice, bob))
    _failed_login(alice)
    match_pending()
    assert [note.user_id for note in _rows(Notification)] == [alice.id]


def test_send_once_transports_send_one_message_per_event(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    chat = make_transport("chat", "webhook_slack", webhook_url="http://127.0.0.1:9/slack",
                          send_once=True)
    hook = make_transport("hook", "webhook", webhook_url="http://127.0.0.1:9/hook")
    make_rule(actions=("login_failed",), transports=(chat, hook),
              group=make_group("ops", alice, bob))
    _failed_login(alice)
    match_pending()
    per_transport = sorted((d.transport_name, d.recipient_id) for d in _rows(Delivery))
    assert per_transport == [("chat", alice.id), ("hook", alice.id), ("hook", bob.id)]


def test_deliveries_are_queued_with_the_notification_content(ctx):
    alice = make_user("alice")
    hook = make_transport("hook", "webhook", webhook_url="http://127.0.0.1:9/hook")
    rule = make_rule(actions=("login_failed",), transports=(hook,),
                     group=make_group("ops", alice), severity="warning")
    event = _failed_login(alice)
    match_pending()
    [delivery] = _rows(Delivery)
    assert (delivery.status, delivery.attempts, delivery.severity, delivery.body,
            delivery.event_id, delivery.rule_id) == (
        "queued", 0, "warning", "Bad password for alice", event.event_uuid, rule.id)
    assert delivery.key is not None and delivery.next_attempt_at is not None


def test_the_throttle_lets_one_notification_per_key_through_and_counts_the_rest(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    rule = make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
                     group=make_group("ops", alice), throttle_minutes=10,
                     throttle_key="{{ event.user.username }}")
    for _ in range(3):
        _failed_login(alice)
    _failed_login(bob)
    match_pending()

    bodies = sorted(note.body for note in _rows(Notification))
    assert bodies == ["Bad password for alice", "Bad password for bob"]
    [stats] = _rows(RuleHourStats)
    assert (stats.rule_id, stats.matched, stats.suppressed) == (rule.id, 4, 2)


def test_without_a_throttle_every_match_notifies(ctx):
    alice = make_user("alice")
    make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
              group=make_group("ops", alice))
    for _ in range(3):
        _failed_login(alice)
    match_pending()
    assert len(_rows(Notification)) == 3


def test_events_of_the_notification_machinery_reach_the_bell_only(ctx):
    """No loops: a dead webhook's configuration_error must not queue another webhook."""
    alice = make_user("alice")
    hook = make_transport("hook", "webhook", webhook_url="http://127.0.0.1:9/hook")
    local = make_transport("bell", "local")
    make_rule(actions=("configuration_error",), transports=(hook, local),
              group=make_group("ops", alice))
    record("configuration_error", {"message": "hook gave up"}, app="herald.notifications")
    db.session.commit()
    match_pending()
    assert [note.body for note in _rows(Notification)] == ["hook gave up"]
    assert _rows(Delivery) == []


def test_deleting_a_rule_keeps_its_notifications(ctx):
    alice = make_user("alice")
    rule = make_rule(actions=("login_failed",), transports=(make_transport("bell", "local"),),
                     group=make_group("ops", alice))
    _failed_login(alice)
    match_pending()
    db.session.delete(db.session.get(NotificationRule, rule.id))
    db.session.commit()
    assert [note.rule_id for note in _rows(Notification)] == [None]


def test_failing_policies_of_two_rules_never_trigger_each_other(ctx):
    """authentik's loop guard, across rules: each rule's broken expression records a
    policy_exception, and neither exception may run the other rule again."""
    admin = make_user("admin")
    local = make_transport("bell", "local")
    group = make_group("ops", admin)
    for name in ("first", "second"):
        rule = make_rule(name, actions=(), transports=(local,), group=group)
        rule.bindings.append(PolicyBinding(policy=ExpressionPolicy(
            name=f"{name}-broken", expression="1 / 0"), failure_result=True))
        db.session.commit()
    match_pending()  # the set-up's own events each fail both policies, once

    exceptions = _rows_where("policy_exception")
    match_pending()
    assert _rows_where("policy_exception") == exceptions
    assert outbox.pending() == 0


def _rows_where(action: str) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Event.event_uuid).where(Event.action == action)
                                   .order_by(Event.event_uuid)))
