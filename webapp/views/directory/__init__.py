"""Directory > Users, Groups and Tokens: superuser pages over accounts.py and groups.py.

Every view here is admin-only (webapp.web.security denies by default).
"""

from webapp.views.directory import (  # noqa: F401 (routes attach to bp)
    groups,
    pickers,
    tokens,
    users,
)
from webapp.views.directory.common import bp

__all__ = ["bp"]
