"""Events: the Logs list (filters, paging, live tail) and one event's page and details."""

from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")

from webapp.views.events import event_page, logs, map  # noqa: E402,F401 (routes on bp)
