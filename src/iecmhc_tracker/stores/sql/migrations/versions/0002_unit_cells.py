"""Per-unit cell totals (``unit_cells``), filled from the live activities already stored; the
aggregation index of the activities goes, as releases now read the totals (and the planners
preferred other paths for the row scans that remain).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql import rollup
from iecmhc_tracker.stores.sql.schema import CODE, TABLE_OPTIONS, build_schema, double

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    cells = op.create_table(f"{p}unit_cells", *rollup.columns(CODE, double), **TABLE_OPTIONS)
    # the activity table as revision 0001 left it (the columns the totals read are unchanged)
    activities = build_schema(p).activities
    rollup.rebuild(op.get_bind(), activities, cells)
    op.drop_index(f"{p}ix_activities_agg", table_name=f"{p}activities")
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=2))


def downgrade() -> None:
    p = _prefix()
    op.drop_table(f"{p}unit_cells")
    op.create_index(
        f"{p}ix_activities_agg",
        f"{p}activities",
        ["deleted_at", "fiscal_year", "kind", "consultant"],
    )
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=1))
