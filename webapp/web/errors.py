"""Error pages and the events they record.

Every error gets a readable page (or JSON under /api/), never a bare stack trace. An unhandled
exception records system_exception with the traceback and shows the request id, so an
administrator can find the event that belongs to what the user saw.
"""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress

from flask import Flask, jsonify, make_response, render_template, request
from flask_htmx import make_response as htmx_response
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from webapp.core.extensions import db, htmx
from webapp.events import record
from webapp.events.request_context import request_id
from webapp.models import EventAction

log = logging.getLogger("herald")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected_error)


def handle_csrf_error(error: CSRFError):
    _record_safely(EventAction.SUSPICIOUS_REQUEST, {"reason": "csrf", "message": error.description})
    if htmx:
        # A stale tab: reload it so the page gets a fresh token, instead of a silent no-op.
        return htmx_response("", 400, refresh=True)
    return render_error(400, "The form was out of date or incomplete. Reload the page and try "
                             "again.", error.description)


def handle_http_error(error: HTTPException):
    return render_error(error.code or 500, error.name, error.description)


def handle_unexpected_error(error: Exception):
    log.exception("Unhandled error in request %s", request_id())
    _record_safely(EventAction.SYSTEM_EXCEPTION, {
        "message": f"{type(error).__name__}: {error}",
        "exception": "".join(traceback.format_exception(error)),
    })
    return render_error(500, InternalServerError.name,
                        "Something went wrong on our side. The error has been recorded.")


#: Seconds a client is asked to wait when the database is restarting or locked.
RETRY_AFTER = 5


def handle_database_unavailable(error: OperationalError):
    """The database is restarting, unreachable or locked: not a bug, so a 503 with
    Retry-After and one log line, no traceback and no event (recording one needs the
    database that has just failed). The pool's pre-ping reconnects on a later request."""
    with suppress(SQLAlchemyError):
        db.session.rollback()
    reason = (str(error.orig or error).strip().splitlines() or [""])[0]
    log.warning("Database unavailable in request %s: %s", request_id(), reason)
    response = make_response(render_error(
        503, ServiceUnavailable.name,
        "The database cannot be reached right now. Try again in a few seconds."))
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def render_error(status: int, title: str, description: str | None):
    if request.path.startswith("/api/"):
        return jsonify({"detail": description or title, "request_id": request_id()}), status
    page = render_template("errors/error.html", status=status, title=title,
                           description=description, request_id=request_id())
    return page, status


def _record_safely(action: str, context: dict) -> None:
    """Record without letting a broken session or database turn one error into two."""
    try:
        db.session.rollback()
        record(action, context, app="herald.errors")
        db.session.commit()
    except Exception:  # noqa: BLE001 (the original error is what matters; log and go on)
        db.session.rollback()
        log.exception("Could not record %s event", action)
