"""The settings row, and what the Settings page reports about this installation."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.engine import make_url

from webapp.core.extensions import db
from webapp.events.geoip import geoip_status
from webapp.models import JobRun, Settings
from webapp.system.jobs import JOBS
from webapp.system.scheduler import current_lease


def get_settings() -> Settings:
    """The single settings row, created with defaults the first time it is needed."""
    settings = db.session.get(Settings, Settings.SINGLETON_ID)
    if settings is None:
        settings = Settings(id=Settings.SINGLETON_ID)
        db.session.add(settings)
        db.session.flush()
    return settings


def configuration_summary() -> dict[str, Any]:
    """Read-only facts for administrators; passwords are never included."""
    config = current_app.config
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    return {
        "database": {"backend": url.get_backend_name(),
                     "url": url.render_as_string(hide_password=True)},
        "geoip": geoip_status(),
        "smtp": {
            "host": config.get("MAIL_HOST") or "not configured",
            "port": config.get("MAIL_PORT"),
            "tls": "SSL" if config.get("MAIL_USE_SSL") else
                   "STARTTLS" if config.get("MAIL_USE_TLS") else "none",
            "from": config.get("MAIL_FROM"),
            "password": "set (hidden)" if config.get("MAIL_PASSWORD") else "not set",
        },
        "scheduler": scheduler_status(),
    }


def scheduler_status() -> dict[str, Any]:
    runs = {run.job_id: run for run in db.session.scalars(db.select(JobRun))}
    return {
        "in_this_process": "herald_scheduler" in current_app.extensions,
        "lease": current_lease(),
        "jobs": [{"job": job, "run": runs.get(job.id)} for job in JOBS],
    }
