"""The default transports and rules: created by `flask bootstrap` and, for databases
bootstrapped before notifications existed, by migration 0007; they alert the admins group
about configuration errors and exceptions, as authentik's defaults do."""

from __future__ import annotations

import sqlalchemy as sa

from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.extensions import db
from webapp.events import record
from webapp.models import Notification, NotificationRule, NotificationTransport
from webapp.notifications.matching import match_pending


def _rules() -> dict[str, tuple[str, str, list[str], list[str]]]:
    """name -> (severity, group, transports, bound actions)."""
    db.session.expire_all()
    return {rule.name: (rule.severity, rule.destination_group.name,
                        [t.name for t in rule.transports],
                        [b.policy.action for b in rule.bindings])
            for rule in db.session.scalars(sa.select(NotificationRule))}


EXPECTED_ACTIONS = {
    "default-notify-configuration-error": ["configuration_error"],
    "default-notify-exception": ["system_exception", "system_task_exception",
                                 "policy_exception"],
}


def test_bootstrap_creates_the_default_transports_and_rules(app, runner):
    assert runner.invoke(args=["bootstrap"]).exit_code == 0
    with app.app_context():
        transports = dict(db.session.execute(
            sa.select(NotificationTransport.name, NotificationTransport.mode)).all())
        rules = _rules()
    assert transports == {"default-local-transport": "local",
                          "default-email-transport": "email"}
    assert {name: actions for name, (*_, actions) in rules.items()} == EXPECTED_ACTIONS
    assert {(severity, group, tuple(transports)) for severity, group, transports, _ in
            rules.values()} == {("alert", "admins", ("default-local-transport",))}


def test_with_smtp_configured_the_rules_also_send_email(app, runner):
    app.config["MAIL_HOST"] = "127.0.0.1"
    assert runner.invoke(args=["bootstrap"]).exit_code == 0
    with app.app_context():
        transports = {tuple(transports) for _, _, transports, _ in _rules().values()}
    assert transports == {("default-email-transport", "default-local-transport")}


def test_bootstrapping_again_changes_nothing(app, runner):
    runner.invoke(args=["bootstrap"])
    with app.app_context():
        before = _rules()
        db.session.delete(db.session.scalar(sa.select(NotificationRule).where(
            NotificationRule.name == "default-notify-exception")))
        db.session.commit()
    assert "nothing changed" in runner.invoke(args=["bootstrap"]).output
    with app.app_context():
        assert set(_rules()) == set(before) - {"default-notify-exception"}


def test_a_system_exception_rings_the_administrators_bell(app, runner):
    runner.invoke(args=["bootstrap"])
    with app.app_context():
        match_pending()  # bootstrap's own events
        record("system_exception", {"message": "KeyError: 'x'"}, app="herald.web")
        db.session.commit()
        match_pending()
        [note] = db.session.scalars(sa.select(Notification)).all()
        assert (note.user.username, note.severity, note.body) == ("admin", "alert",
                                                                  "KeyError: 'x'")


def test_the_migration_adds_the_defaults_to_a_database_bootstrapped_before(empty_database):
    old = create_app(config_for_tests(empty_database))
    runner = old.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0005"]).exit_code == 0
    with old.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO groups (name, is_superuser, attributes, group_uuid) "
            "VALUES ('admins', true, '{}', :uuid)"), {"uuid": "0" * 32})
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with old.app_context():
        rules = _rules()
        db.session.remove()
        db.engine.dispose()
    assert {name: actions for name, (*_, actions) in rules.items()} == EXPECTED_ACTIONS
    assert {tuple(transports) for _, _, transports, _ in rules.values()} == {
        ("default-local-transport",)}


def test_the_migration_leaves_a_fresh_database_to_bootstrap(empty_database):
    app = create_app(config_for_tests(empty_database))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert _rules() == {}
        db.session.remove()
        db.engine.dispose()
