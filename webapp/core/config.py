"""Configuration: defaults here, overridden by HERALD_* environment variables.

Flask's `from_prefixed_env("HERALD")` strips the prefix and JSON-decodes values, so
`HERALD_SCHEDULER=true` becomes `SCHEDULER = True` and `HERALD_TRUSTED_PROXIES=1` an int.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask


class ConfigurationError(RuntimeError):
    """Raised when Herald cannot start safely with the configuration it was given."""


DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # filled with a SQLite file in instance/ when unset
    # hide_parameters: a failed statement's values (password hashes, token hashes) must never
    # reach an exception message, and so never a system_exception event or the log.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    "SCHEDULER": False,
    "TRUSTED_PROXIES": 0,
    "GEOIP_CITY_DB": None,
    "GEOIP_ASN_DB": None,
    "MAIL_HOST": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "herald@localhost",
    # Online tiles under the map, e.g. "https://tile.openstreetmap.org/{z}/{x}/{y}.png" (the
    # bundled world outline is always drawn); the attribution the tile provider asks for.
    "MAP_TILES_URL": None,
    "MAP_TILES_ATTRIBUTION": None,
    "BOOTSTRAP_EMAIL": "admin@localhost",
    "BOOTSTRAP_PASSWORD": None,
    "BOOTSTRAP_TOKEN": None,
    # Stale admin tabs must not fail with a silent 400; the token is still bound to the session.
    "WTF_CSRF_TIME_LIMIT": None,
    # CSRF is checked by webapp.directory.token_auth.authenticate_request, which lets bearer-token
    # requests through; Flask-WTF's own blanket check would refuse them.
    "WTF_CSRF_CHECK_DEFAULT": False,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,  # set HERALD_SESSION_COOKIE_SECURE=true behind HTTPS
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "LOGIN_MAX_FAILURES_PER_USERNAME": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 20,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    "PAGE_SIZE": 50,
    "EXPORT_FOLDER": None,  # background export files; default: exports/ in the instance folder
    # Where people reach Herald, e.g. "https://herald.example.com": emails and chat messages
    # link to events with it (jobs have no request to take the host from).
    "EXTERNAL_URL": None,
    # Deliveries sent at once by one scheduler, and the first retry's delay (it doubles).
    "NOTIFICATION_CONCURRENCY": 16,
    "NOTIFICATION_RETRY_BASE_SECONDS": 30,
    # A delivery claimed by a worker that died is sent again once this claim runs out.
    "NOTIFICATION_CLAIM_SECONDS": 300,
    # GET /metrics: the client's address must be in METRICS_ALLOW (addresses or CIDRs) and,
    # when METRICS_TOKEN is set, send it as `Authorization: Bearer <token>`.
    "METRICS_ALLOW": ("127.0.0.1", "::1"),
    "METRICS_TOKEN": None,
}


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
    }
