"""free-text search over events: SQLite FTS5 table and triggers, PostgreSQL GIN index

Revision ID: 0003_search
Revises: 0002
Create Date: 2026-11-21 20:10:00

Existing events are indexed here (FTS5 `rebuild` reads them through the source view; the
PostgreSQL index is built over the rows already there), so old events are searchable at once.

The DDL comes from webapp.events.search rather than being copied here: the search objects are
a derived index, never data, and are only ever dropped and created whole, so a later change
to them is a later migration that drops them and creates the new ones from that module.
"""
from alembic import op

from webapp.events.search import create_search_index, drop_search_index

revision = "0003_search"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    create_search_index(op.get_bind(), fill=True)


def downgrade():
    drop_search_index(op.get_bind())
