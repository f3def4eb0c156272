"""Dashboards > Overview."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template

from webapp.db_types import utcnow
from webapp.events.queries import latest_events
from webapp.extensions import db
from webapp.models import Event, EventAction, User
from webapp.security import for_any_user
from webapp.views.auth import home_url

bp = Blueprint("overview", __name__)


@bp.get("/")
@for_any_user
def root():
    return redirect(home_url())


@bp.get("/overview")
def index():
    return render_template("overview/index.html", events=latest_events(10), stats=_stats())


def _stats() -> dict[str, int]:
    since = utcnow() - timedelta(hours=24)
    last_day = sa.select(sa.func.count()).select_from(Event).where(Event.created >= since)
    return {
        "events_24h": db.session.scalar(last_day) or 0,
        "logins_24h": db.session.scalar(last_day.where(Event.action == EventAction.LOGIN)) or 0,
        "failed_24h": db.session.scalar(
            last_day.where(Event.action == EventAction.LOGIN_FAILED)) or 0,
        "users": db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0,
    }
