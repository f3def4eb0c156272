"""hourly event roll-ups for the Overview

Revision ID: 0004
Revises: 0003_search
Create Date: 2026-11-21 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import webapp.core.db_types

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_rollup_hours',
    sa.Column('hour', webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('computed_at', webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_event_rollup_hours'))
    )
    op.create_table('event_rollups',
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('hour', webapp.core.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hour'], ['event_rollup_hours.hour'], name=op.f('fk_event_rollups_hour_event_rollup_hours'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dimension', 'action', 'hour', 'value', name=op.f('pk_event_rollups'))
    )
    with op.batch_alter_table('event_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_event_rollups_hour', ['hour'], unique=False)


def downgrade():
    with op.batch_alter_table('event_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_event_rollups_hour')

    op.drop_table('event_rollups')
    op.drop_table('event_rollup_hours')
