"""the country index also holds city and action, so the map's counts read no event rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 23:15:00

Events > Map counts the events in a time range per (country, city, action). With city and
action after (country, created, event_uuid) that count is an index-only scan; without them
it read each of 100,000 rows from the table, half the Map's time on SQLite. The leading
columns are unchanged, so filters and keyset pages by country use the index as before.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NAME = "ix_events_country_created"
KEYSET = ["country", "created", "event_uuid"]


def upgrade():
    op.drop_index(NAME, table_name="events")
    op.create_index(NAME, "events", [*KEYSET, "city", "action"], unique=False)


def downgrade():
    op.drop_index(NAME, table_name="events")
    op.create_index(NAME, "events", KEYSET, unique=False)
