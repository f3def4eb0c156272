"""Exact event counts per hour, kept by triggers on PostgreSQL, for jumps to deep API pages

Revision ID: 0013_event_hour_counts
Revises: 0012_api_page_cursors
Create Date: 2026-11-22 10:00:00

A page jumped to in the middle of ten million events skipped five million index entries by
OFFSET (0.6 s); with the hour counts it adds up hours and skips inside one (see
webapp/events/positions.py). On PostgreSQL the existing events are counted here, one pass over
the `created` index (a few seconds at ten million), while the triggers' creation holds writers
off. On SQLite the table stays empty.
"""
import sqlalchemy as sa
from alembic import op

from webapp.core.db_types import UTCDateTime
from webapp.events.positions import create_counting, drop_counting

revision = "0013_event_hour_counts"
down_revision = "0012_api_page_cursors"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "event_hour_counts",
        sa.Column("hour", UTCDateTime(timezone=True), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "shard", name=op.f("pk_event_hour_counts")),
    )
    create_counting(op.get_bind(), fill=True)


def downgrade():
    drop_counting(op.get_bind())
    op.drop_table("event_hour_counts")
