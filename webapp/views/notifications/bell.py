"""The bell for every signed-in user: unread badge, drawer, mark read, and the history page.

Every open tab polls the badge, so that view does the least it can: one indexed COUNT, a
fragment with no page around it, no session write, and a 204 when the figure the tab shows is
still right (nothing to swap, nothing for a screen reader to announce again). Marking read
answers `HX-Trigger: notifications-changed`, on which the badge, the drawer and the history
refresh at once; any other page can send it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from webapp.core.extensions import db, htmx
from webapp.models import Severity
from webapp.notifications import inbox
from webapp.views.directory.common import fragment_or_page, page_arg, per_page
from webapp.web.security import ADMIN, access_level, for_any_user

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
CHANGED = "notifications-changed"
DRAWER_SIZE = 20
#: The history's "seen" filter: its URL value -> inbox.history's `seen`.
SEEN = {"all": None, "unread": False, "read": True}
SEVERITIES = tuple(severity.value for severity in Severity)


@dataclass(frozen=True)
class HistoryFilter:
    seen: str = "all"
    severity: str = ""

    def query_args(self) -> dict[str, str]:
        """The filter as URL arguments, defaults left out, for page links and refreshes."""
        return {name: value for name, value in (("seen", self.seen), ("severity", self.severity))
                if value and value != "all"}


@bp.app_template_global()
def unread_notifications() -> int:
    """The count the header's bell starts with, queried only where the bell is drawn."""
    return inbox.unread_count(current_user.id)


@bp.get("/badge")
@for_any_user
def badge():
    unread = inbox.unread_count(current_user.id)
    if request.args.get("shown", type=int) == unread:
        return "", 204
    return render_template("notifications/_count.html", unread=unread)


@bp.get("/drawer")
@for_any_user
def drawer():
    return render_template("notifications/_drawer.html",
                           notifications=inbox.unread(current_user.id, DRAWER_SIZE),
                           unread=inbox.unread_count(current_user.id))


@bp.get("/")
@for_any_user
def index():
    filters = _history_filter()
    pagination = inbox.history(current_user.id, seen=SEEN[filters.seen],
                               severity=filters.severity or None, page=page_arg(),
                               per_page=per_page())
    return fragment_or_page("notifications/_history.html", "notifications/index.html",
                            pagination=pagination, filters=filters,
                            seen_choices=SEEN, severities=SEVERITIES)


@bp.post("/<uuid:notification_id>/read")
@for_any_user
def mark_read(notification_id: uuid.UUID):
    if not inbox.mark_read(current_user.id, notification_id):
        abort(404)
    db.session.commit()
    return _changed()


@bp.post("/read")
@for_any_user
def mark_all_read():
    inbox.mark_all_read(current_user.id)
    db.session.commit()
    return _changed()


def _changed():
    """htmx: nothing to swap, and the event every bell view refreshes on. A form posted
    without JavaScript: back to the history, which shows the change."""
    if htmx:
        return htmx_response("", 204, trigger=CHANGED)
    return redirect(url_for(".index"))


def _history_filter() -> HistoryFilter:
    """The history's filter from the URL; a value no control offers is a clear 400."""
    seen = request.args.get("seen", "all")
    severity = request.args.get("severity", "")
    if seen not in SEEN:
        abort(400, f"Unknown “seen” filter; choose one of: {', '.join(SEEN)}.")
    if severity and severity not in SEVERITIES:
        abort(400, f"Unknown severity; choose one of: {', '.join(SEVERITIES)}.")
    return HistoryFilter(seen, severity)


@bp.app_template_global()
def can_open(path: str | None) -> bool:
    """Whether the current user may follow a notification's link: only paths of this app,
    and not an admin page a regular user would meet as a 403."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return False
    try:
        endpoint, _ = current_app.url_map.bind("").match(path)
    except HTTPException:  # no such page, or a redirect (RequestRedirect)
        return False
    return access_level(str(endpoint)) != ADMIN or current_user.is_admin
