"""users.last_updated and tokens.token_uuid, which authentik's API clients require

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 10:00:00

authentik-client 2025.10 refuses a user without `last_updated` and a token whose `pk` is not
a UUID. Existing users start with their join date (the newest moment known for the row);
existing tokens get a random UUID each.
"""
import uuid

import sqlalchemy as sa
from alembic import op

import webapp.core.db_types

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "last_updated", webapp.core.db_types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET last_updated = date_joined")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("last_updated", nullable=False)

    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_uuid", sa.Uuid(), nullable=True))
    tokens = sa.table("tokens", sa.column("id", sa.Integer), sa.column("token_uuid", sa.Uuid))
    connection = op.get_bind()
    for (token_id,) in connection.execute(sa.select(tokens.c.id)).all():
        connection.execute(tokens.update().where(tokens.c.id == token_id)
                           .values(token_uuid=uuid.uuid4()))
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.alter_column("token_uuid", nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_tokens_token_uuid"), ["token_uuid"])


def downgrade():
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tokens_token_uuid"), type_="unique")
        batch_op.drop_column("token_uuid")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_updated")
