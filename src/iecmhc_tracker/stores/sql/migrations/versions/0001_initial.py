"""The initial schema: activities, their referrals, the budget ledger and balances, store meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from iecmhc_tracker.stores.sql.schema import CODE, TABLE_OPTIONS, double, timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _prefix() -> str:
    return str(context.config.attributes.get("table_prefix", ""))


def upgrade() -> None:
    p = _prefix()
    op.create_table(
        f"{p}activities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("consultant", sa.String(CODE), nullable=False),
        sa.Column("program", sa.String(CODE)),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("quarter", sa.Integer, nullable=False),
        sa.Column("county", sa.String(CODE), nullable=False),
        sa.Column("region", sa.String(CODE)),
        sa.Column("setting", sa.String(CODE)),
        sa.Column("kind", sa.String(CODE), nullable=False),
        sa.Column("consultation_type", sa.String(CODE)),
        sa.Column("tier", sa.String(CODE)),
        sa.Column("modality", sa.String(CODE)),
        sa.Column("format", sa.String(CODE)),
        sa.Column("methods", sa.Text),
        sa.Column("competencies", sa.Text),
        sa.Column("hours", double()),
        sa.Column("minutes", sa.Integer),
        sa.Column("children_benefiting", sa.Integer),
        sa.Column("staff_influenced", sa.Integer),
        sa.Column("families", sa.Integer),
        sa.Column("participants", sa.Integer),
        sa.Column("rated_worthwhile", sa.Integer),
        sa.Column("referral_total", sa.Integer),
        sa.Column("recommended_consultation", sa.Integer),
        sa.Column("language", sa.String(CODE)),
        sa.Column("note", sa.Text),
        sa.Column("extra", sa.Text),
        sa.Column("tags", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp()),
        sa.Column("updated_by", sa.String(CODE)),
        sa.Column("deleted_at", timestamp()),
        sa.Column("deleted_by", sa.String(CODE)),
        **TABLE_OPTIONS,
    )
    op.create_index(f"{p}ix_activities_consultant", f"{p}activities", ["consultant", "date"])
    op.create_index(f"{p}ix_activities_program", f"{p}activities", ["program", "date"])
    op.create_index(
        f"{p}ix_activities_agg",
        f"{p}activities",
        ["deleted_at", "fiscal_year", "kind", "consultant"],
    )
    op.create_table(
        f"{p}activity_referrals",
        sa.Column(
            "activity_id",
            sa.String(36),
            sa.ForeignKey(f"{p}activities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resource_type", sa.String(CODE), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_index(
        f"{p}ix_referrals_type", f"{p}activity_referrals", ["resource_type", "activity_id"]
    )
    op.create_table(
        f"{p}budget_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("analyst", sa.String(CODE), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("amount", double(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_index(f"{p}ix_ledger_analyst", f"{p}budget_ledger", ["analyst", "id"])
    op.create_table(
        f"{p}budget_balance",
        sa.Column("analyst", sa.String(CODE), primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("currency", sa.String(16), primary_key=True),
        sa.Column("spent", double(), nullable=False),
        **TABLE_OPTIONS,
    )
    meta = op.create_table(
        f"{p}store_meta",
        sa.Column("key", sa.String(CODE), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        **TABLE_OPTIONS,
    )
    op.bulk_insert(
        meta, [{"key": "data_version", "value": 0}, {"key": "schema_version", "value": 1}]
    )


def downgrade() -> None:
    p = _prefix()
    for name in ("store_meta", "budget_balance", "budget_ledger", "activity_referrals"):
        op.drop_table(f"{p}{name}")
    op.drop_table(f"{p}activities")
