"""API walks' cursors live in the database, shared by every worker

Revision ID: 0012_api_page_cursors
Revises: 0011_affected_object_index
Create Date: 2026-11-25 10:00:00

Each worker process remembered where the next page of a walk starts in its own memory, so
under gunicorn a walk's next page that reached another worker fell back to OFFSET.
"""
import sqlalchemy as sa
from alembic import op

from webapp.core.db_types import UTCDateTime

revision = "0012_api_page_cursors"
down_revision = "0011_affected_object_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_page_cursors",
        sa.Column("walk", sa.String(length=64), nullable=False),
        sa.Column("after", sa.String(length=500), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("count_exact", sa.Boolean(), nullable=False),
        sa.Column("saved_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("walk", name=op.f("pk_api_page_cursors")),
    )
    with op.batch_alter_table("api_page_cursors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_page_cursors_saved_at"), ["saved_at"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("api_page_cursors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_page_cursors_saved_at"))
    op.drop_table("api_page_cursors")
