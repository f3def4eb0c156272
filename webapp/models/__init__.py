"""All models, importable from one place (Alembic and the app factory import this module)."""

from webapp.models.directory import Group, Token, User, UserType, group_membership
from webapp.models.events import Event, EventAction
from webapp.models.reports import DataExport, ExportFormat, ExportStatus  # noqa: F401
from webapp.models.rollups import EventRollup, EventRollupHour, RollupDimension
from webapp.models.system import (
    DEFAULT_EVENT_RETENTION,
    BackgroundTask,
    JobRun,
    SchedulerLease,
    Settings,
)

__all__ = [
    "DEFAULT_EVENT_RETENTION",
    "BackgroundTask",
    "Event",
    "EventAction",
    "EventRollup",
    "EventRollupHour",
    "Group",
    "JobRun",
    "RollupDimension",
    "SchedulerLease",
    "Settings",
    "Token",
    "User",
    "UserType",
    "group_membership",
]
