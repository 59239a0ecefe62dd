"""The profile stamp: the store remembers the profile its data is recorded under (name,
version, content digest and text), so that it is never read under another by mistake.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql.schema import TABLE_OPTIONS, profile_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    op.create_table(f"{p}store_profile", *profile_columns(), **TABLE_OPTIONS)
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=5))


def downgrade() -> None:
    p = _prefix()
    op.drop_table(f"{p}store_profile")
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=4))
