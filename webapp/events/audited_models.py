"""Which models are audited, and how. Imported once by the app factory.

Event, Notification, delivery, outbox, throttle and statistics rows are never audited: they
are the log, not the configuration. Columns that change on every use (last_login, last_used,
and a user's last_updated, which follows every write) are noise, not administration, so they
are ignored.
"""

from webapp.events.audit import Membership, register_audited
from webapp.models import (
    DataExport,
    EventMatcherPolicy,
    ExpressionPolicy,
    Group,
    NotificationRule,
    NotificationTransport,
    PolicyBinding,
    Settings,
    Token,
    User,
    WebhookMapping,
)

register_audited(User, secret=("password_hash",), ignore=("last_login", "last_updated"),
                 memberships=(Membership("groups", "users", owner_is_self=False),))
register_audited(Group, memberships=(Membership("users", "users", owner_is_self=True),))
register_audited(Token, secret=("key_hash",), ignore=("last_used",))
register_audited(Settings)
# An export's progress columns change as it runs: they are not administration, so only its
# creation (what was asked, by whom) and its deletion are audit events.
register_audited(DataExport, ignore=("status", "rows", "size", "file_name", "task_id",
                                     "message", "finished_at"))

# Notification configuration. A webhook's signing secret is masked in every diff (the CA
# bundle is a public certificate and stays readable). Each policy type is registered by its
# own class: the audit looks models up by their exact type.
register_audited(NotificationTransport, secret=("signing_secret",))
register_audited(WebhookMapping)
register_audited(NotificationRule,
                 memberships=(Membership("transports", "transports", owner_is_self=True),))
register_audited(EventMatcherPolicy)
register_audited(ExpressionPolicy)
register_audited(PolicyBinding)
