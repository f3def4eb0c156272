"""Command-line interface: `flask --app app <command>`."""

from __future__ import annotations

import secrets
import signal
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from webapp.core.db_types import utcnow
from webapp.core.extensions import db
from webapp.core.log_setup import held_event_lines
from webapp.demo import load_demo
from webapp.directory.accounts import (
    AccountError,
    any_user_exists,
    create_token,
    create_user,
    ensure_admins_group,
)
from webapp.events import acting_as
from webapp.events.record import current_retention
from webapp.events.rollups import refresh_rollups
from webapp.events.search import rebuild_search_index
from webapp.notifications.defaults import create_defaults
from webapp.system.system_settings import get_settings

users_cli = AppGroup("users", help="Manage user accounts.")
scheduler_cli = AppGroup("scheduler", help="Run periodic jobs.")
search_cli = AppGroup("search", help="The free-text search index of events.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(bootstrap)
    app.cli.add_command(users_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(demo)
    app.cli.add_command(search_cli)


@click.command("bootstrap")
@with_appcontext
def bootstrap() -> None:
    """Create the first administrator, the admins group, default settings and the default
    notification transports and rules (once)."""
    config = current_app.config
    password = config["BOOTSTRAP_PASSWORD"] or secrets.token_urlsafe(12)
    with held_event_lines() as held, acting_as(source="cli:bootstrap"):
        get_settings()
        created = not any_user_exists()
        if created:
            admin = create_user("admin", email=config["BOOTSTRAP_EMAIL"], password=password,
                                is_superuser=True, name="Herald administrator")
            admins = ensure_admins_group(admin)
            create_defaults(admins, email_configured=bool(config["MAIL_HOST"]))
            if config["BOOTSTRAP_TOKEN"]:
                create_token(admin, identifier="bootstrap-token",
                             key=str(config["BOOTSTRAP_TOKEN"]),
                             description="Created by flask bootstrap from HERALD_BOOTSTRAP_TOKEN")
        db.session.commit()
    if not created:
        click.echo("Herald is already bootstrapped; nothing changed.")
        return
    click.echo(f"Created the administrator account. {_recorded(held)}")
    if config["BOOTSTRAP_PASSWORD"]:
        click.echo(_boxed(["Sign in to Herald as the administrator:", "",
                           "  username: admin",
                           "  password: the one in HERALD_BOOTSTRAP_PASSWORD"]))
    else:
        click.echo(_boxed(["Sign in to Herald as the administrator:", "",
                           "  username: admin", f"  password: {password}", "",
                           "Shown only this once: keep it, or change it after signing in."]))


def _recorded(held: list[str]) -> str:
    """What an interactive command says instead of printing its events' JSON lines."""
    count = len(held)
    return f"Recorded {count} event{'' if count == 1 else 's'} (Events > Logs lists them)."


def _boxed(lines: list[str]) -> str:
    """Lines in a plain ASCII box (any terminal shows it), with a blank line before it."""
    width = max(len(line) for line in lines) + 4
    rule = "+" + "-" * width + "+"
    body = [f"|  {line.ljust(width - 4)}  |" for line in lines]
    return "\n".join(["", rule, *body, rule])


@users_cli.command("create")
@click.argument("username")
@click.option("--email", default="", help="Email address (can also be used to sign in).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--superuser", is_flag=True, help="Make the user an administrator.")
def create_user_command(username: str, email: str, password: str, superuser: bool) -> None:
    """Create a user account."""
    with held_event_lines() as held, acting_as(source="cli:users create"):
        try:
            user = create_user(username, email=email, password=password, is_superuser=superuser)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        if superuser:
            ensure_admins_group(user)
        db.session.commit()
    click.echo(f"Created user {username}{' (administrator)' if superuser else ''}. "
               f"{_recorded(held)}")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the periodic jobs in this process until stopped (the production set-up). Ctrl+C and
    SIGTERM (systemd, docker stop) stop it cleanly: running jobs finish, the lease is freed."""
    from webapp.system.scheduler import build_scheduler

    scheduler, runner = build_scheduler(current_app._get_current_object(), blocking=True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    click.echo(f"Scheduler running as {runner.lease.holder}; Ctrl+C stops it.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runner.stop(scheduler)


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _window_end(_ctx: click.Context, _param: click.Parameter, value: datetime | None) -> datetime:
    """--until in UTC; the demo is about the past, so a future end is refused. The default is
    the start of this hour rather than this instant, so the same seed gives the same events
    byte for byte all hour long."""
    now = utcnow()
    if value is None:
        return now.replace(minute=0, second=0, microsecond=0)
    value = value.replace(tzinfo=UTC)
    if value > now:
        raise click.BadParameter("must not be in the future.")
    return value


@click.command("demo")
@with_appcontext
@click.option("--events", "count", type=click.IntRange(1, 100_000_000), default=5000,
              show_default=True, help="How many events to add.")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Spread them over this many days before --until.")
@click.option("--seed", type=int, help="The same seed gives the same events (default: random).")
@click.option("--until", type=click.DateTime(), callback=_window_end,
              help="End of the time window, UTC (default: the start of this hour). With "
                   "--seed it pins the events byte for byte.")
def demo(count: int, days: int, seed: int | None, until: datetime) -> None:
    """Add realistic demo events: sign-ins from around the world, attacks, admin changes."""
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    with held_event_lines(), acting_as(source="cli:demo"):
        if current_retention().days < days:
            click.echo(f"Note: the event retention is shorter than {days} days, so the oldest "
                       "demo events expire at the next cleanup.")
        with click.progressbar(length=count, label="Adding demo events") as bar:
            result = load_demo(count, days=days, until=until, seed=seed, progress=bar.update)
    click.echo(f"Added {result.events:,} events in {result.seconds:.1f} s "
               f"({result.rate:,.0f} events/s), seed {seed}; "
               f"{result.new_users} new demo users.")
    # Counted now rather than by the first Overview load (seconds at a million events).
    click.echo(f"Overview roll-ups: {refresh_rollups()}")


@search_cli.command("rebuild")
def rebuild_search() -> None:
    """Build the search index again from every event (run it after a SQLite VACUUM)."""
    with db.engine.begin() as connection:
        rebuild_search_index(connection)
    click.echo("Rebuilt the search index.")
