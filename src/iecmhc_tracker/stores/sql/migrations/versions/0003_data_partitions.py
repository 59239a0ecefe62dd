"""Budgets belong to the data: a ledger row names the partitions (fiscal years of data) it
charged, and a new table holds everyone's spend per partition (the lifetime cap's row).

Spending recorded before this revision was kept per (analyst, period of the release date,
currency). It is carried over as the closest the old ledger can tell: a charge made in
fiscal year FY is counted on the FY partition, Gaussian ρ converted to ε at δ = 1e-6; charges
kept per month or "forever" cannot be placed in a fiscal year and stay in the audit log only.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-12
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql.schema import TABLE_OPTIONS, double

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LEGACY_DELTA = 1e-6  # the δ the old profiles reported Gaussian releases at


def rho_to_epsilon(rho: float, delta: float) -> float:
    """ρ-zCDP is (ρ + 2·√(ρ·ln(1/δ)), δ)-DP (the library's accountant, frozen here)."""
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    totals = op.create_table(
        f"{p}budget_partitions",
        sa.Column("partition", sa.String(32), primary_key=True),
        sa.Column("spent", double(), nullable=False),
        **TABLE_OPTIONS,
    )
    op.add_column(f"{p}budget_ledger", sa.Column("partitions", sa.Text))
    bind = op.get_bind()
    ledger = sa.table(
        f"{p}budget_ledger", sa.column("id"), sa.column("period"), sa.column("partitions")
    )
    for rid, period in bind.execute(sa.select(ledger.c.id, ledger.c.period)).all():
        bind.execute(
            ledger.update().where(ledger.c.id == rid).values(partitions=json.dumps([period]))
        )
    balances = sa.table(
        f"{p}budget_balance",
        sa.column("analyst"),
        sa.column("period"),
        sa.column("currency"),
        sa.column("spent"),
    )
    spend: dict[tuple[str, str], float] = defaultdict(float)
    old = bind.execute(
        sa.select(balances.c.analyst, balances.c.period, balances.c.currency, balances.c.spent)
    ).all()
    for analyst, period, currency, spent in old:
        if not str(period).startswith("FY"):
            continue
        amount = float(spent)
        spend[(analyst, period)] += (
            rho_to_epsilon(amount, LEGACY_DELTA) if currency == "rho" else amount
        )
    bind.execute(balances.delete().where(balances.c.currency == "rho"))
    per_partition: dict[str, float] = defaultdict(float)
    for (analyst, period), amount in spend.items():
        cond = sa.and_(
            balances.c.analyst == analyst,
            balances.c.period == period,
            balances.c.currency == "epsilon",
        )
        bind.execute(balances.delete().where(cond))
        bind.execute(
            balances.insert().values(
                analyst=analyst, period=period, currency="epsilon", spent=amount
            )
        )
        per_partition[period] += amount
    if per_partition:
        bind.execute(
            totals.insert(), [{"partition": k, "spent": v} for k, v in per_partition.items()]
        )
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=3))


def downgrade() -> None:
    p = _prefix()
    op.drop_table(f"{p}budget_partitions")
    with op.batch_alter_table(f"{p}budget_ledger") as batch:
        batch.drop_column("partitions")
    meta = sa.table(f"{p}store_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value=2))
