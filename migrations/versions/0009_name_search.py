"""trigram indexes for searching users and groups by name as one types

Revision ID: 0009_name_search
Revises: 0008
Create Date: 2026-11-23 14:00:00

The pickers of the Directory and the rule pages search users and groups after every keystroke;
these indexes make each search a few index lookups at any number of users (SQLite: FTS5
trigram tables kept by triggers; PostgreSQL: pg_trgm GIN indexes). The DDL comes from
webapp.directory.name_search, as 0003 takes the events' from webapp.events.search: the
objects are derived, created whole over the rows already there, and dropped whole.
"""
from alembic import op

from webapp.directory.name_search import create_name_indexes, drop_name_indexes

revision = "0009_name_search"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    create_name_indexes(op.get_bind(), fill=True)


def downgrade():
    drop_name_indexes(op.get_bind())
