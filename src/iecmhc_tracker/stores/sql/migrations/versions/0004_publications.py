"""The publication ledger: every state table released, with what it published and from which
data, so a later release is suppressed jointly with it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql.schema import TABLE_OPTIONS, publication_columns

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    op.create_table(f"{p}publications", *publication_columns(), **TABLE_OPTIONS)
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=4))


def downgrade() -> None:
    p = _prefix()
    op.drop_table(f"{p}publications")
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=3))
