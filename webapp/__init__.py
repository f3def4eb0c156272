"""Herald: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.config import load_config
from webapp.extensions import csrf, db, htmx, login_manager, migrate
from webapp.token_auth import authenticate_request

#: Everything from this origin, scripts only from files (no inline script, no eval): an
#: injected <script> or on* attribute does not run even if escaping ever failed. Inline
#: style attributes stay allowed (progress bars, htmx's indicator styles).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app. No migrations, threads or network here, except the scheduler when
    HERALD_SCHEDULER asks for one in this process."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    load_config(app, config)
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    from webapp.cli import register_cli
    from webapp.errors import register_error_handlers
    from webapp.events.geoip import init_geoip
    from webapp.log_setup import configure_logging
    from webapp.template_helpers import register_template_helpers

    configure_logging(quiet=app.testing)
    init_geoip(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    if app.config["SCHEDULER"] and not app.testing:
        from webapp.scheduler import start_in_process

        start_in_process(app)
    return app


def _trust_proxies(app: Flask) -> None:
    hops = int(app.config["TRUSTED_PROXIES"] or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    from webapp import audited_models, models  # noqa: F401 (tables and audit hooks, once)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_project_dir(app) / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)


def _project_dir(app: Flask):
    from pathlib import Path

    return Path(app.root_path).parent


def _load_user(session_id: str):
    """The signed-in user, unless deactivated or their password changed since sign-in."""
    from webapp.lookups import MAX_ID
    from webapp.models import User

    user_id, _, fragment = session_id.partition(":")
    if not user_id.isdigit() or not 0 < int(user_id) <= MAX_ID:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_fragment != fragment:
        return None
    return user


def _unauthorized():
    from flask import flash, jsonify, redirect, url_for

    if request.path.startswith("/api/"):
        return jsonify({"detail": "Authentication credentials were not provided."}), 403
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if htmx:
        return htmx_response("", 401, redirect=login_url)
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url)


def _register_blueprints(app: Flask) -> None:
    from webapp.views import auth, directory, events, health, overview, settings

    for module in (auth, directory, events, health, overview, settings):
        app.register_blueprint(module.bp)


def _register_hooks(app: Flask) -> None:
    from webapp.events.request_context import request_id
    from webapp.security import enforce_access, reject_nul_characters

    @app.before_request
    def _assign_request_id() -> None:
        request_id()

    app.before_request(reject_nul_characters)
    app.before_request(authenticate_request)
    app.before_request(enforce_access)

    @app.after_request
    def _add_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    @app.context_processor
    def _inject_user():
        return {"current_user": current_user}
