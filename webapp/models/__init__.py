"""All models, importable from one place (Alembic and the app factory import this module)."""

from webapp.models.directory import Group, Token, User, UserType, group_membership
from webapp.models.events import Event, EventAction
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
    "Group",
    "JobRun",
    "SchedulerLease",
    "Settings",
    "Token",
    "User",
    "UserType",
    "group_membership",
]
