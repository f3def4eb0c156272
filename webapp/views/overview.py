"""Dashboards > Overview: the last 24 hours at a glance, each figure a way into Logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template
from werkzeug.datastructures import MultiDict

from webapp.events.filters import EventFilter, parse_filters
from webapp.events.overview_stats import recent_overview_stats
from webapp.events.queries import latest_events
from webapp.reports.volume import HOUR, NARROW, VolumeChart, volume_chart
from webapp.views.auth import home_url
from webapp.web.security import for_any_user

bp = Blueprint("overview", __name__)


@bp.get("/")
@for_any_user
def root():
    return redirect(home_url())


@bp.get("/overview")
def index():
    return render_template("overview/index.html", events=latest_events(10),
                           stats=recent_overview_stats(current_app.extensions), charts=CHARTS)


@dataclass(frozen=True)
class OverviewChart:
    title: str
    filters: EventFilter
    draw: Callable[[EventFilter], VolumeChart]


SIGN_INS = parse_filters(MultiDict([("action", "login"), ("action", "login_failed"),
                                    ("period", "7d")])).filter
LAST_DAY = parse_filters(MultiDict([("period", "24h")])).filter
#: The Overview's charts, each loaded after the page (htmx) from `chart` below.
CHARTS = {
    "sign-ins": OverviewChart("Sign-ins and failed sign-ins per hour, last 7 days", SIGN_INS,
                              lambda f: volume_chart(f, unit=HOUR, width=NARROW)),
    "categories": OverviewChart("Events per category, last 24 hours", LAST_DAY,
                                lambda f: volume_chart(f, by_category=True, width=NARROW)),
}


@bp.get("/overview/charts/<name>")
def chart(name: str):
    found = CHARTS.get(name)
    if found is None:
        abort(404, "There is no such chart on the Overview.")
    return render_template("reports/_volume_chart.html", chart=found.draw(found.filters),
                           filters=found.filters, chart_endpoint="events.index",
                           chart_title=found.title)
