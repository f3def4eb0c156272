"""Configuration: defaults here, overridden by HERALD_* environment variables.

Flask's `from_prefixed_env("HERALD")` strips the prefix and JSON-decodes values, so
`HERALD_SCHEDULER=true` becomes `SCHEDULER = True` and `HERALD_TRUSTED_PROXIES=1` an int.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask


class ConfigurationError(RuntimeError):
    """Raised when Herald cannot start safely with the configuration it was given."""


class Setting(NamedTuple):
    """One configuration key: its default and the line of help that docs/configuration.md
    shows (generated from SETTINGS by scripts/config_reference.py, so code and docs agree)."""

    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None,
            "Signs sessions and CSRF tokens; required outside tests, the same on every host."),
    Setting("SQLALCHEMY_DATABASE_URI", None,
            "The database, e.g. `postgresql://herald:PASSWORD@127.0.0.1/herald`; "
            "unset: the SQLite file `instance/herald.sqlite3`."),
    # hide_parameters: a failed statement's values (password hashes, token hashes) must never
    # reach an exception message, and so never a system_exception event or the log.
    Setting("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "hide_parameters": True},
            "SQLAlchemy engine options; pre-ping survives a database restart."),
    Setting("SCHEDULER", False,
            "`true`: a serving process (`flask run`, a WSGI server) also runs the periodic jobs; "
            "`make serve` runs them in a process of their own instead."),
    Setting("TRUSTED_PROXIES", 0,
            "How many reverse proxies in front of Herald are trusted to set `X-Forwarded-For`."),
    Setting("GEOIP_CITY_DB", None,
            "Path of a MaxMind City `.mmdb` file (geo enrichment; off when unset)."),
    Setting("GEOIP_ASN_DB", None,
            "Path of a MaxMind ASN `.mmdb` file (ASN enrichment; off when unset)."),
    Setting("MAIL_HOST", None, "SMTP server for the email transport; unset: email is off."),
    Setting("MAIL_PORT", 25, "SMTP port (587 with STARTTLS, 465 with SSL)."),
    Setting("MAIL_USE_TLS", False, "`true`: upgrade the SMTP connection with STARTTLS."),
    Setting("MAIL_USE_SSL", False, "`true`: connect to the SMTP server over TLS from the start."),
    Setting("MAIL_USERNAME", None, "SMTP user name, when the server asks for a login."),
    Setting("MAIL_PASSWORD", None, "SMTP password (never shown on the Settings page)."),
    Setting("MAIL_FROM", "herald@localhost", "Sender address of notification emails."),
    Setting("MAP_TILES_URL", None,
            "Online tiles under the map, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; "
            "unset: only the bundled world outline (Herald works offline)."),
    Setting("MAP_TILES_ATTRIBUTION", None, "The attribution the tile provider asks for."),
    Setting("BOOTSTRAP_EMAIL", "admin@localhost", "`flask bootstrap`: the first admin's email."),
    Setting("BOOTSTRAP_PASSWORD", None,
            "`flask bootstrap`: the first admin's password; unset: generated and printed once."),
    Setting("BOOTSTRAP_TOKEN", None,
            "`flask bootstrap`: an API token key for the first admin (e.g. for automation)."),
    # Stale admin tabs must not fail with a silent 400; the token is still bound to the session.
    Setting("WTF_CSRF_TIME_LIMIT", None,
            "Lifetime of a form's CSRF token in seconds; unset: as long as the session."),
    # CSRF is checked by webapp.directory.token_auth.authenticate_request, which lets
    # bearer-token requests through; Flask-WTF's own blanket check would refuse them.
    Setting("WTF_CSRF_CHECK_DEFAULT", False,
            "Internal: Herald checks CSRF itself so that API tokens work; leave it off."),
    Setting("MAX_CONTENT_LENGTH", 16 * 1024 * 1024, "Largest request body accepted, in bytes."),
    Setting("SESSION_COOKIE_HTTPONLY", True, "Scripts cannot read the session cookie."),
    Setting("SESSION_COOKIE_SECURE", False,
            "`true` when Herald is served over HTTPS: cookies never travel in clear."),
    Setting("SESSION_COOKIE_SAMESITE", "Lax", "SameSite attribute of the session cookie."),
    Setting("REMEMBER_COOKIE_HTTPONLY", True, "Scripts cannot read the remember-me cookie."),
    Setting("PASSWORD_HASH", "scrypt",
            "How passwords are hashed, as werkzeug names it: `scrypt` is its current cost "
            "(N=32768, r=8, p=1), `scrypt:65536:8:1` a higher one; existing hashes keep theirs."),
    Setting("LOGIN_MAX_FAILURES_PER_USERNAME", 5,
            "Failed sign-ins per account within the window before sign-in answers 429."),
    Setting("LOGIN_MAX_FAILURES_PER_IP", 20,
            "Failed sign-ins per client address within the window before sign-in answers 429."),
    Setting("LOGIN_FAILURE_WINDOW_MINUTES", 15, "The window the two limits above count in."),
    Setting("PAGE_SIZE", 50, "Rows per page in Logs, the delivery ledger and the directory."),
    Setting("API_EXACT_COUNT_LIMIT", 1_000_000,
            "On PostgreSQL, an API list the planner expects to hold more rows than this "
            "reports its estimate as `count` (an exact count of 10M events takes a second); "
            "`0`: always exact. `next` is always right."),
    Setting("EXPORT_FOLDER", None,
            "Where background exports are written; unset: `exports/` in the instance folder."),
    # Jobs have no request to take the host from.
    Setting("EXTERNAL_URL", None,
            "Where people reach Herald, e.g. `https://herald.example.com`; emails and chat "
            "messages link to events with it."),
    Setting("NOTIFICATION_CONCURRENCY", 16, "Deliveries one scheduler sends at once."),
    Setting("NOTIFICATION_RETRY_BASE_SECONDS", 30,
            "The first retry's delay; it doubles per attempt, capped at an hour."),
    Setting("NOTIFICATION_CLAIM_SECONDS", 300,
            "A delivery claimed by a worker that died is sent again after this many seconds."),
    Setting("METRICS_ALLOW", ("127.0.0.1", "::1"),
            "Addresses or networks that may read `/metrics`: a JSON list or comma-separated."),
    Setting("METRICS_TOKEN", None,
            "When set, `/metrics` also needs `Authorization: Bearer <token>`."),
)

DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply defaults, then the environment, then explicit overrides (tests pass a mapping)."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("HERALD")
    if overrides:
        app.config.from_mapping(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        db_file = Path(app.instance_path) / "herald.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    _normalise_database_uri(app)
    _require_secret_key(app)


def _normalise_database_uri(app: Flask) -> None:
    """Accept `postgresql://` URIs and use psycopg 3, the driver Herald ships with."""
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len(prefix):]


def _require_secret_key(app: Flask) -> None:
    if app.config["SECRET_KEY"] or app.testing:
        return
    raise ConfigurationError(
        "HERALD_SECRET_KEY is not set. Set it to a long random string "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'); "
        "`make run` generates one in instance/secret_key for you."
    )


def config_for_tests(database_uri: str | None = None) -> dict[str, Any]:
    """The mapping tests pass to create_app: a fixed key, CSRF on, a given database."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_uri or os.environ.get("HERALD_TEST_DATABASE_URI"),
        "WTF_CSRF_ENABLED": True,
        "SCHEDULER": False,
        # Hashing at full cost was a third of a second per signed-in test; the default's
        # cost is checked by its own test.
        "PASSWORD_HASH": "scrypt:256:8:1",
    }
