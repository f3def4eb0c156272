"""An event filter as a person reads it, for the Reports page and the export's audit event.

The stored query-string pairs are what the job re-runs; this sentence is what an auditor reads
a year later ("action login_failed · country DE · last 24 hours to 2026-11-01 12:00 UTC"), so a
relative period is written with the moment it was relative to.
"""

from __future__ import annotations

from datetime import datetime

from webapp.events.filters import PERIOD_LABELS, PERIODS, EventFilter

MAX_LENGTH = 1000
LABELS = {"q": "search", "username": "username", "client_ip": "client IP", "app": "app",
          "country": "country", "city": "city", "model_app": "object app",
          "model_name": "object type", "model_pk": "object pk", "since": "since",
          "until": "until"}


def describe_filter(filters: EventFilter, anchor: datetime) -> str:
    parts: list[str] = []
    if filters.actions:
        parts.append("action " + " or ".join(filters.actions))
    parts += [f"{LABELS[name]} “{text}”" if name == "q" else f"{LABELS[name]} {text}"
              for name, text in filters.source if name in LABELS]
    if filters.period in PERIODS:
        label = PERIOD_LABELS[filters.period].lower()
        parts.append(f"{label} to {anchor:%Y-%m-%d %H:%M} UTC")
    text = " · ".join(parts) or "all events"
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH - 1] + "…"
