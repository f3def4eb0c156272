"""Jinja filters the templates share."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from webapp.events.sanitize import iso_utc

ACTION_STYLES = {
    "login": "success",
    "login_failed": "warning",
    "logout": "secondary",
    "suspicious_request": "danger",
    "system_exception": "danger",
    "system_task_exception": "danger",
    "configuration_error": "danger",
    "model_created": "info",
    "model_updated": "primary",
    "model_deleted": "dark",
    "password_set": "info",
}


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(format_time, "time")
    app.add_template_filter(iso_time, "iso")
    app.add_template_filter(pretty_json, "pretty_json")
    app.add_template_filter(action_style, "action_style")
    app.add_template_filter(user_label, "user_label")
    app.add_template_global(nav_has, "nav_has")


def nav_has(endpoint: str) -> bool:
    """Whether a page exists, so the sidebar links only pages this installation has."""
    return endpoint in current_app.view_functions


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def iso_time(value: datetime | None) -> str:
    return iso_utc(value) if value else ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def action_style(action: str) -> str:
    return ACTION_STYLES.get(action, "secondary")


def user_label(user: dict[str, Any] | None) -> str:
    """How an event's user reads in a list: the username, or what kind of actor it was."""
    user = user or {}
    if user.get("is_system"):
        return "system"
    if user.get("is_anonymous"):
        return "anonymous"
    return str(user.get("username") or "—")
