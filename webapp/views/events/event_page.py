"""One event: its page (details, related events, raw JSON) and its details as a fragment.

The fragment is what Logs' expandable rows and the Overview's recent events fetch with htmx
when opened, so a list page never renders details nobody asked for.
"""

from __future__ import annotations

from flask import abort, render_template

from webapp.events.queries import get_event
from webapp.events.related import related_events
from webapp.events.renderers import details_for
from webapp.events.renderers.values import cut
from webapp.events.serialize import event_to_dict
from webapp.models import Event
from webapp.notifications.ledger import count_for_event
from webapp.views.events import bp
from webapp.web.template_helpers import pretty_json

NOT_FOUND = "No event with that id exists; it may have expired."
MAX_RAW_JSON = 100_000  # characters: an event with megabytes of context still loads quickly


@bp.get("/<event_id>")
def detail(event_id: str):
    event = _event_or_404(event_id)
    raw = pretty_json(event_to_dict(event))
    return render_template("events/detail.html", event=event, raw=cut(raw, MAX_RAW_JSON),
                           raw_is_cut=len(raw) > MAX_RAW_JSON, details=details_for(event),
                           related=related_events(event), ids="event",
                           deliveries=count_for_event(event.event_uuid))


@bp.get("/<event_id>/details")
def details(event_id: str):
    event = _event_or_404(event_id)
    # Ids inside the fragment carry the event's id: several rows may be open on one page.
    return render_template("events/_details.html", details=details_for(event),
                           ids=f"event-{event.event_uuid.hex}")


def _event_or_404(event_id: str) -> Event:
    event = get_event(event_id)
    if event is None:
        abort(404, NOT_FOUND)
    return event
