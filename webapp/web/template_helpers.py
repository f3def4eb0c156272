"""Jinja filters the templates share."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, url_for

from webapp.core.db_types import utcnow
from webapp.events.sanitize import iso_utc
from webapp.reports.palette import swatch


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(format_time, "time")
    app.add_template_filter(iso_time, "iso")
    app.add_template_filter(pretty_json, "pretty_json")
    app.add_template_filter(user_label, "user_label")
    app.add_template_filter(time_ago, "ago")
    app.add_template_global(swatch, "swatch")
    app.add_template_global(filter_url, "filter_url")
    app.add_template_global(nav_has, "nav_has")


def nav_has(endpoint: str) -> bool:
    """Whether a page exists, so the sidebar links only pages this installation has."""
    return endpoint in current_app.view_functions


def filter_url(endpoint: str, filters: Any, **extra: Any) -> str:
    """A URL that keeps the current event filter (repeated `action` values included)."""
    query = urlencode(filters.query_args(**extra))
    return f"{url_for(endpoint)}?{query}" if query else url_for(endpoint)


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def iso_time(value: datetime | None) -> str:
    return iso_utc(value) if value else ""


def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    """"3 min ago": how long ago, in the largest unit that is at least one."""
    if value is None:
        return "—"
    seconds = int(((now or utcnow()) - value) / timedelta(seconds=1))
    if seconds < 0:
        return "in the future"
    for unit, size in (("day", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now" if seconds < 10 else f"{seconds} s ago"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def user_label(user: dict[str, Any] | None) -> str:
    """How an event's user reads in a list: the username, or what kind of actor it was."""
    user = user or {}
    if user.get("is_system"):
        return "system"
    if user.get("is_anonymous"):
        return "anonymous"
    return str(user.get("username") or "—")
