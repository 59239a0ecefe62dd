"""The one SQL schema of the SQL stores, for every dialect (SQLAlchemy 2 Core).

``build_schema(prefix)`` returns a fresh :class:`Schema` (``MetaData`` plus its tables) whose
table and index names all start with ``prefix``, so an application can embed the store in its
own database next to its own tables. The alembic migrations in ``migrations/`` beside this
module create exactly this schema; :data:`SCHEMA_VERSION` is the alembic head they bring a
database to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from .record_tables import engagement_columns, indexes, request_columns
from .rollup import columns as rollup_columns

#: The alembic revision this library's schema is at (the head of ``migrations/versions``).
SCHEMA_VERSION = "0006"

CODE = 64  # the longest code or pseudonym validation lets through
# MariaDB/MySQL: utf8mb4 for emoji and a binary collation so that text compares exactly as
# in Python (the default collations ignore case and trailing spaces).
TABLE_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def timestamp() -> sa.types.TypeEngine[dt.datetime]:
    # naive UTC everywhere; MySQL/MariaDB would drop microseconds without fsp=6
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def double() -> sa.types.TypeEngine[float]:
    return sa.Double().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")


@attrs.frozen(slots=True)
class Schema:
    """A store's tables, under one table prefix."""

    prefix: str
    metadata: sa.MetaData
    activities: sa.Table
    referrals: sa.Table
    ledger: sa.Table
    balances: sa.Table
    meta: sa.Table
    #: everyone's spend per partition (the lifetime cap's row)
    partitions: sa.Table
    #: live activities summed per unit and cell (``rollup``), kept in step by every write
    cells: sa.Table
    #: every state table released: what was published, from which data, and when
    publications: sa.Table
    #: the profile the store's data is recorded under (one row, once stamped)
    profile: sa.Table
    #: consultation engagements and requests for consultation (revision 0006)
    engagements: sa.Table
    requests: sa.Table

    @property
    def version_table(self) -> str:
        """The name of alembic's version table for this prefix."""
        return f"{self.prefix}alembic_version"


def build_schema(prefix: str = "", metadata: sa.MetaData | None = None) -> Schema:
    """The store's tables, named ``prefix + name``, in ``metadata`` (a new one by default)."""
    md = metadata if metadata is not None else sa.MetaData()
    p = prefix
    activities = sa.Table(
        f"{p}activities",
        md,
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
        # the engagement the entry is part of (revision 0006): its dosage is summed by it
        sa.Column("engagement", sa.String(36)),
        # own-rows reads: a consultant's or a program's rows in date order
        sa.Index(f"{p}ix_activities_consultant", "consultant", "date"),
        sa.Index(f"{p}ix_activities_program", "program", "date"),
        sa.Index(f"{p}ix_activities_engagement", "engagement"),
        **TABLE_OPTIONS,
    )
    referrals = sa.Table(
        f"{p}activity_referrals",
        md,
        sa.Column(
            "activity_id",
            sa.String(36),
            sa.ForeignKey(f"{p}activities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("resource_type", sa.String(CODE), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Index(f"{p}ix_referrals_type", "resource_type", "activity_id"),
        **TABLE_OPTIONS,
    )
    # one row per release (cache hits included, with amount 0): who, what, on which partitions.
    # ``period`` is the accounting basis: "data" (partitions are fiscal years of data) for every
    # charge since revision 0003, the release date's period for older ones; ``currency`` is
    # "epsilon" since 0003 (older Gaussian charges kept "rho")
    ledger = sa.Table(
        f"{p}budget_ledger",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("analyst", sa.String(CODE), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("amount", double(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        # a JSON array of the partitions (fiscal years of data, "FY2025") charged
        sa.Column("partitions", sa.Text),
        sa.Index(f"{p}ix_ledger_analyst", "analyst", "id"),
        **TABLE_OPTIONS,
    )
    # one row per partition: everyone's spend on it, the row that serialises charges against
    # the lifetime cap (two analysts racing for its last ε lock the same row)
    partitions = sa.Table(
        f"{p}budget_partitions",
        md,
        sa.Column("partition", sa.String(32), primary_key=True),
        sa.Column("spent", double(), nullable=False),
        **TABLE_OPTIONS,
    )
    # one row per (analyst, partition) in ``period`` (currency "epsilon"): the analyst's spend
    balances = sa.Table(
        f"{p}budget_balance",
        md,
        sa.Column("analyst", sa.String(CODE), primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("currency", sa.String(16), primary_key=True),
        sa.Column("spent", double(), nullable=False),
        **TABLE_OPTIONS,
    )
    meta = sa.Table(
        f"{p}store_meta",
        md,
        sa.Column("key", sa.String(CODE), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        **TABLE_OPTIONS,
    )
    cells = sa.Table(f"{p}unit_cells", md, *rollup_columns(CODE, double), **TABLE_OPTIONS)
    publications = sa.Table(f"{p}publications", md, *publication_columns(), **TABLE_OPTIONS)
    profile = sa.Table(f"{p}store_profile", md, *profile_columns(), **TABLE_OPTIONS)
    more = indexes(p)
    engagements = sa.Table(
        f"{p}engagements",
        md,
        *engagement_columns(CODE, timestamp),
        *(sa.Index(name, *cols) for name, cols in more["engagements"]),
        **TABLE_OPTIONS,
    )
    requests = sa.Table(
        f"{p}requests",
        md,
        *request_columns(CODE, timestamp),
        *(sa.Index(name, *cols) for name, cols in more["requests"]),
        **TABLE_OPTIONS,
    )
    return Schema(
        p,
        md,
        activities,
        referrals,
        ledger,
        balances,
        meta,
        partitions,
        cells,
        publications,
        profile,
        engagements,
        requests,
    )


def publication_columns() -> list[sa.Column[Any]]:
    """The publication ledger's columns (shared by the schema and its migration)."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", timestamp(), nullable=False),
        # MEDIUMTEXT on MariaDB/MySQL: a release of every table runs past TEXT's 64 KiB
        sa.Column("entry", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")),
    ]


def profile_columns() -> list[sa.Column[Any]]:
    """The profile stamp's columns (shared by the schema and its migration): one row, slot 1,
    with the profile's name, version, content digest, where it was read from and its text."""
    long_text = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    return [
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("text", long_text, nullable=False),
        sa.Column("at", timestamp(), nullable=False),
    ]


#: Rows of the meta table every store starts with.
META_DEFAULTS = {"data_version": 0, "schema_version": int(SCHEMA_VERSION)}
