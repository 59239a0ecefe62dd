"""Engagements and requests: their tables, and the activity's link to its engagement.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql.record_tables import engagement_columns, indexes, request_columns
from iecmhc_tracker.stores.sql.schema import CODE, TABLE_OPTIONS, timestamp

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    op.add_column(f"{p}activities", sa.Column("engagement", sa.String(36)))
    op.create_index(f"{p}ix_activities_engagement", f"{p}activities", ["engagement"])
    op.create_table(f"{p}engagements", *engagement_columns(CODE, timestamp), **TABLE_OPTIONS)
    op.create_table(f"{p}requests", *request_columns(CODE, timestamp), **TABLE_OPTIONS)
    for table, made in indexes(p).items():
        for name, cols in made:
            op.create_index(name, f"{p}{table}", list(cols))
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=6))


def downgrade() -> None:
    p = _prefix()
    op.drop_table(f"{p}requests")
    op.drop_table(f"{p}engagements")
    op.drop_index(f"{p}ix_activities_engagement", table_name=f"{p}activities")
    with op.batch_alter_table(f"{p}activities") as batch:  # SQLite drops a column by copying
        batch.drop_column("engagement")
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=5))
