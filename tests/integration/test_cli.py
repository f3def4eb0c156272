"""Command-line set-up: bootstrap and user creation."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.factories import make_event
from tests.helpers import events
from webapp import create_app
from webapp.core.config import config_for_tests
from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.core.log_setup import EVENTS_LOGGER, held_event_lines
from webapp.models import Event, EventRollupHour, Group, Settings, Token, User

ROOT = Path(__file__).resolve().parents[2]


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


def test_bootstrap_ends_with_the_sign_in_details_in_a_box(app, runner):
    result = runner.invoke(args=["bootstrap"])

    last = result.output.rstrip().splitlines()[-8:]
    assert last[0].startswith("+--") and last[-1].startswith("+--")
    assert "username: admin" in last[3] and "password: " in last[4]
    with app.app_context():
        assert f"Recorded {len(events())} events (Events > Logs lists them)." in result.output


def test_flask_bootstrap_in_a_terminal_prints_no_json_and_ends_with_the_password(
        tmp_path: Path):
    """The real command in its own process, logging set up as in production (event lines go
    to stderr as JSON there), stdout and stderr read together as a terminal shows them."""
    uri = f"sqlite:///{tmp_path / 'herald.sqlite3'}"
    schema = create_app(config_for_tests(uri))
    with schema.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    env = {**os.environ, "HERALD_SECRET_KEY": "x" * 32, "HERALD_SQLALCHEMY_DATABASE_URI": uri,
           "HERALD_SCHEDULER": "false"}
    env.pop("HERALD_BOOTSTRAP_PASSWORD", None)

    done = subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "app",
                           "bootstrap"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stdout
    lines = done.stdout.rstrip().splitlines()
    assert not [line for line in lines if line.lstrip().startswith("{")], done.stdout
    password = re.fullmatch(r"\|\s+password: (\S+)\s+\|", lines[-4]).group(1)
    assert re.fullmatch(r"\|\s+username: admin\s+\|", lines[-5])
    assert lines[-1].startswith("+--") and "Shown only this once" in lines[-2]
    with schema.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        assert admin.check_password(password)
        db.session.remove()
        db.engine.dispose()


def test_event_lines_come_back_after_an_interactive_command(app):
    """The server keeps its JSON lines: holding them back lasts only as long as the command."""
    events_logger = logging.getLogger(EVENTS_LOGGER)
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    events_logger.addHandler(handler)
    try:
        with app.app_context():
            with held_event_lines() as held:
                make_event("custom_inside")
            make_event("custom_after")
    finally:
        events_logger.removeHandler(handler)

    assert [json.loads(line)["action"] for line in held] == ["custom_inside"]
    assert [json.loads(line)["action"] for line in seen] == ["custom_after"]


def test_flask_demo_rolls_up_the_overview_hours_it_filled(app, runner):
    result = runner.invoke(args=["demo", "--events", "300", "--days", "1", "--seed", "3"])

    assert result.exit_code == 0, result.output
    assert "Overview roll-ups: Rolled up 4" in result.output  # 47 or 48 closed hours
    with app.app_context():
        rolled = db.session.scalar(sa.select(sa.func.sum(EventRollupHour.events)))
        day = db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.created >= utcnow() - timedelta(days=2)))
        assert 250 < rolled <= day


def test_search_rebuild_puts_an_index_that_lost_step_right_again(app, runner):
    """After a SQLite VACUUM renumbers rows the index points at the wrong events; the same
    happens here by building an empty index under existing events."""
    from webapp.events.filters import EventFilter
    from webapp.events.queries import count_events
    from webapp.events.search import create_search_index, drop_search_index

    searched = EventFilter(q="quokka", source=(("q", "quokka"),))
    with app.app_context():
        make_event("custom_sighting", message="a quokka on the lawn")
        assert count_events(searched).value == 1
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as connection:
                drop_search_index(connection)
                create_search_index(connection)  # empty: it does not read existing rows
            assert count_events(searched).value == 0
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt the search index." in result.output
    with app.app_context():
        assert count_events(searched).value == 1
