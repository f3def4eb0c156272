"""Command-line set-up: bootstrap and user creation."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.helpers import events
from webapp.extensions import db
from webapp.models import Group, Settings, Token, User


def test_bootstrap_creates_the_admin_once_and_prints_the_password(app, runner):
    first = runner.invoke(args=["bootstrap"])

    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        assert admin.is_superuser and admin.check_password(password)
        assert [g.name for g in admin.groups] == ["admins"]
        assert db.session.get(Settings, 1).event_retention == "days=365"
        created = events("model_created")
        assert {e.context["source"] for e in created} == {"cli:bootstrap"}
        assert password not in str([e.context for e in events()])

    second = runner.invoke(args=["bootstrap"])
    assert "nothing changed" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 1


def test_bootstrap_takes_password_email_and_token_from_the_environment(app, runner):
    app.config.update(BOOTSTRAP_PASSWORD="chosen-password-1", BOOTSTRAP_EMAIL="ops@example.com",
                      BOOTSTRAP_TOKEN="bootstrap-key-0123456789")
    result = runner.invoke(args=["bootstrap"])

    assert "chosen-password-1" not in result.output
    with app.app_context():
        admin = db.session.scalar(sa.select(User))
        assert admin.email == "ops@example.com" and admin.check_password("chosen-password-1")
        token = db.session.scalar(sa.select(Token))
        assert token.key_hash == Token.hash_key("bootstrap-key-0123456789")
        assert "bootstrap-key-0123456789" not in token.key_hash


def test_users_create_makes_a_user_who_can_sign_in(app, runner):
    result = runner.invoke(args=["users", "create", "bob", "--email", "bob@example.com",
                                 "--password", "bob-password-1", "--superuser"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        assert bob.is_superuser and bob.check_password("bob-password-1")


def test_users_create_refuses_a_duplicate_with_a_clear_message(app, runner):
    runner.invoke(args=["users", "create", "bob", "--password", "bob-password-1"])
    result = runner.invoke(args=["users", "create", "BOB", "--password", "x-password-2"])

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
