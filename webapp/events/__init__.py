"""Event capture: record(), sanitizing, cleansing, request context and retention."""

from webapp.events.actor import acting_as
from webapp.events.record import record

__all__ = ["acting_as", "record"]
