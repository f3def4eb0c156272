"""Command-line interface: `flask --app app <command>`."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from webapp.accounts import (
    AccountError,
    any_user_exists,
    create_token,
    create_user,
    ensure_admins_group,
)
from webapp.events import acting_as
from webapp.extensions import db
from webapp.system_settings import get_settings

users_cli = AppGroup("users", help="Manage user accounts.")
scheduler_cli = AppGroup("scheduler", help="Run periodic jobs.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(bootstrap)
    app.cli.add_command(users_cli)
    app.cli.add_command(scheduler_cli)


@click.command("bootstrap")
@with_appcontext
def bootstrap() -> None:
    """Create the first administrator, the admins group and default settings (once)."""
    with acting_as(source="cli:bootstrap"):
        get_settings()
        if any_user_exists():
            db.session.commit()
            click.echo("Herald is already bootstrapped; nothing changed.")
            return
        config = current_app.config
        password = config["BOOTSTRAP_PASSWORD"] or secrets.token_urlsafe(12)
        admin = create_user("admin", email=config["BOOTSTRAP_EMAIL"], password=password,
                            is_superuser=True, name="Herald administrator")
        ensure_admins_group(admin)
        if config["BOOTSTRAP_TOKEN"]:
            create_token(admin, identifier="bootstrap-token", key=str(config["BOOTSTRAP_TOKEN"]),
                         description="Created by flask bootstrap from HERALD_BOOTSTRAP_TOKEN")
        db.session.commit()
    click.echo("Created the administrator account.")
    if not config["BOOTSTRAP_PASSWORD"]:
        click.echo(f"  Sign in as: admin   password: {password}   (shown only this once)")


@users_cli.command("create")
@click.argument("username")
@click.option("--email", default="", help="Email address (can also be used to sign in).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--superuser", is_flag=True, help="Make the user an administrator.")
def create_user_command(username: str, email: str, password: str, superuser: bool) -> None:
    """Create a user account."""
    with acting_as(source="cli:users create"):
        try:
            user = create_user(username, email=email, password=password, is_superuser=superuser)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        if superuser:
            ensure_admins_group(user)
        db.session.commit()
    click.echo(f"Created user {username}{' (administrator)' if superuser else ''}.")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the periodic jobs in this process until stopped (the production set-up)."""
    from webapp.scheduler import build_scheduler

    scheduler, runner = build_scheduler(current_app._get_current_object(), blocking=True)
    click.echo(f"Scheduler running as {runner.lease.holder}; Ctrl+C stops it.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with current_app.app_context():
            runner.lease.release()
