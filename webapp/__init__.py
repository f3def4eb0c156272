"""Herald: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.core.config import load_config
from webapp.core.extensions import csrf, db, htmx, migrate
from webapp.web.metrics import init_metrics


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app. No migrations, threads or network here, except the scheduler when
    HERALD_SCHEDULER asks for one and this process serves HTTP (`flask run`, a WSGI server),
    never in a one-off `flask` command."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    load_config(app, config)
    init_metrics(app)  # first: its WSGI wrapper sits inside ProxyFix, its timer outside hooks
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    from webapp.cli import register_cli
    from webapp.core.log_setup import configure_logging
    from webapp.events.geoip import init_geoip
    from webapp.system.memory import return_large_blocks
    from webapp.web.errors import register_error_handlers
    from webapp.web.template_helpers import register_template_helpers

    configure_logging(quiet=app.testing)
    return_large_blocks()
    init_geoip(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    if app.config["SCHEDULER"] and not app.testing:
        from webapp.system.scheduler import serves_http, start_in_process

        if serves_http():
            start_in_process(app)
    return app


def _trust_proxies(app: Flask) -> None:
    hops = int(app.config["TRUSTED_PROXIES"] or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    from webapp import models  # noqa: F401 (tables, once)
    from webapp.directory import name_search  # noqa: F401 (the name indexes' DDL)
    from webapp.directory.sessions import init_sessions
    from webapp.events import (
        audited_models,  # noqa: F401 (audit hooks, once)
        search,  # noqa: F401 (the search index's DDL on the events table)
    )
    from webapp.notifications import outbox  # noqa: F401 (every new event enters the outbox)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    init_sessions(app)


def _register_blueprints(app: Flask) -> None:
    from webapp.views import auth, directory, events, health, overview, reports, settings
    from webapp.views.notifications import (
        bell,
        deliveries,
        mappings,
        policies,
        rules,
        transports,
    )

    for module in (auth, directory, events, health, overview, reports, settings, bell, rules,
                   transports, mappings, deliveries, policies):
        app.register_blueprint(module.bp)
    from webapp.api import register_api

    register_api(app)


def _register_hooks(app: Flask) -> None:
    from webapp.directory.token_auth import authenticate_request
    from webapp.events.request_context import request_id
    from webapp.web.security import add_security_headers, enforce_access, reject_nul_characters

    @app.before_request
    def _assign_request_id() -> None:
        request_id()

    app.before_request(reject_nul_characters)
    app.before_request(authenticate_request)
    app.before_request(enforce_access)

    app.after_request(add_security_headers)
