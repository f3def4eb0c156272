"""events.email, events.asn and events.message: the JSON values the CSV export reads

Revision ID: 0010_export_columns
Revises: 0009_name_search
Create Date: 2026-11-24 09:00:00

The export built these three cells from the `user` and `context` JSON of every row, which cost
it about 40 % of its rate; new events carry copies (webapp.events.columns.json_text). Existing
rows are backfilled by one UPDATE of the rows that have any of the three: a string as it is,
anything else as its JSON text (PostgreSQL writes an object with its own spacing), null or
missing as NULL. Adding the columns rewrites nothing on either database.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_export_columns"
down_revision = "0009_name_search"
branch_labels = None
depends_on = None

#: column -> (JSON column, path inside it)
COPIES = {
    "email": ("user", ("email",)),
    "asn": ("context", ("asn", "asn")),
    "message": ("context", ("message",)),
}


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name in COPIES:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
    values = {name: _json_text(document, path) for name, (document, path) in COPIES.items()}
    assignments = ", ".join(f"{name} = {value}" for name, value in values.items())
    anything = " OR ".join(f"{value} IS NOT NULL" for value in values.values())
    op.execute(f"UPDATE events SET {assignments} WHERE {anything}")


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name in COPIES:
            batch_op.drop_column(name)


def _json_text(document, path):
    """SQL for the value at `path` as webapp.events.columns.json_text gives it."""
    if op.get_bind().dialect.name == "postgresql":
        keys = "{" + ",".join(path) + "}"
        value = f'"{document}" #> \'{keys}\''
        return (f"CASE jsonb_typeof({value}) WHEN 'string' THEN \"{document}\" #>> '{keys}' "
                f"WHEN 'null' THEN NULL ELSE ({value})::text END")
    where = "$." + ".".join(path)
    return (f"CASE json_type({document}, '{where}') WHEN 'text' THEN "
            f"json_extract({document}, '{where}') WHEN 'null' THEN NULL "
            f"ELSE {document} -> '{where}' END")
