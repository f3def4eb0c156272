"""data exports: the export history and files, and the settings that size and expire them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 21:00:00

Existing settings rows get the defaults (100,000 rows stream at once; files kept 7 days).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import webapp.core.db_types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("excel", sa.Boolean(), nullable=False),
        sa.Column("background", sa.Boolean(), nullable=False),
        sa.Column("filter_args", JSON, nullable=False),
        sa.Column("filter_text", sa.String(length=1000), nullable=False),
        sa.Column("anchor", webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created", webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", webapp.core.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires", webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_data_exports_requested_by_id_users")),
        sa.ForeignKeyConstraint(["task_id"], ["background_tasks.id"], ondelete="SET NULL",
                                name=op.f("fk_data_exports_task_id_background_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_exports_expires"), ["expires"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_exports_requested_by_id"), ["requested_by_id"],
                              unique=False)
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("export_stream_limit", sa.Integer(), nullable=False,
                                      server_default="100000"))
        batch_op.add_column(sa.Column("export_retention", sa.String(length=200), nullable=False,
                                      server_default="days=7"))


def downgrade():
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("export_retention")
        batch_op.drop_column("export_stream_limit")
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_exports_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_data_exports_expires"))
    op.drop_table("data_exports")
