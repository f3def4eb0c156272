"""event filter columns: affected object, place and request copied out of the context JSON

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:20:00

Existing rows are backfilled from their JSON in one UPDATE per column, so filters and the
related-events panel see old events too.
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: column -> (type, JSON path inside `context`, length limit)
COLUMNS = {
    "model_app": (sa.String(length=100), ("model", "app"), 100),
    "model_name": (sa.String(length=100), ("model", "model_name"), 100),
    "model_pk": (sa.String(length=64), ("model", "pk"), 64),
    "country": (sa.String(length=8), ("geo", "country"), 8),
    "city": (sa.String(length=128), ("geo", "city"), 128),
    "request_id": (sa.String(length=64), ("http_request", "request_id"), 64),
}
INDEXES = {
    "ix_events_app_created": ["app", "created", "event_uuid"],
    "ix_events_model_pk_created": ["model_pk", "created", "event_uuid"],
    "ix_events_country_created": ["country", "created", "event_uuid"],
    "ix_events_city_created": ["city", "created", "event_uuid"],
    "ix_events_request_id": ["request_id"],
}


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name, (type_, _path, _limit) in COLUMNS.items():
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    for name, (_type, path, limit) in COLUMNS.items():
        op.execute(f"UPDATE events SET {name} = substr({_json_text(path)}, 1, {limit})")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_app")
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index("ix_events_app", ["app"], unique=False)
        for name in COLUMNS:
            batch_op.drop_column(name)


def _json_text(path):
    if op.get_bind().dialect.name == "postgresql":
        return f"context->'{path[0]}'->>'{path[1]}'"
    return f"json_extract(context, '$.{path[0]}.{path[1]}')"
