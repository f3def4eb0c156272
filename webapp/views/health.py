"""Liveness and readiness probes for load balancers and orchestrators."""

import sqlalchemy as sa
from flask import Blueprint, jsonify

from webapp.core.extensions import db
from webapp.web.security import public

bp = Blueprint("health", __name__, url_prefix="/-/health")


@bp.get("/live/")
@public
def live():
    return jsonify({"status": "ok"})


@bp.get("/ready/")
@public
def ready():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
