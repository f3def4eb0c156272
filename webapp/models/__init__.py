"""All models, importable from one place (Alembic and the app factory import this module)."""

from webapp.models.api import ApiPageCursor
from webapp.models.directory import Group, Token, User, UserType, group_membership
from webapp.models.events import Event, EventAction, EventHourCount
from webapp.models.notifications import (
    Delivery,
    DeliveryStatus,
    EventOutbox,
    Notification,
    NotificationRule,
    NotificationTransport,
    PolicyEngineMode,
    RuleHourStats,
    Severity,
    ThrottleMark,
    TransportMode,
    WebhookMapping,
)
from webapp.models.policies import EventMatcherPolicy, ExpressionPolicy, Policy, PolicyBinding
from webapp.models.reports import DataExport, ExportFormat, ExportStatus  # noqa: F401
from webapp.models.rollups import EventRollup, EventRollupHour, RollupDimension
from webapp.models.system import (
    DEFAULT_EVENT_RETENTION,
    DEFAULT_NOTIFICATION_RETENTION,
    BackgroundTask,
    JobRun,
    SchedulerLease,
    Settings,
)

__all__ = [
    "DEFAULT_EVENT_RETENTION",
    "DEFAULT_NOTIFICATION_RETENTION",
    "ApiPageCursor",
    "BackgroundTask",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "EventAction",
    "EventHourCount",
    "EventMatcherPolicy",
    "EventOutbox",
    "EventRollup",
    "EventRollupHour",
    "ExpressionPolicy",
    "Group",
    "JobRun",
    "Notification",
    "NotificationRule",
    "NotificationTransport",
    "Policy",
    "PolicyBinding",
    "PolicyEngineMode",
    "RollupDimension",
    "RuleHourStats",
    "SchedulerLease",
    "Settings",
    "Severity",
    "ThrottleMark",
    "Token",
    "TransportMode",
    "User",
    "UserType",
    "WebhookMapping",
    "group_membership",
]
