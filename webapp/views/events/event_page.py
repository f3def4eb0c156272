"""One event's page."""

from __future__ import annotations

from flask import abort, render_template

from webapp.events.queries import get_event
from webapp.events.serialize import event_to_dict
from webapp.views.events import bp


@bp.get("/<event_id>")
def detail(event_id: str):
    event = get_event(event_id)
    if event is None:
        abort(404, "No event with that id exists; it may have expired.")
    return render_template("events/detail.html", event=event, raw=event_to_dict(event))
