"""The tables of engagements and requests (shared by the schema and its migration, 0006)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

ID = 36  # a canonical UUID


def engagement_columns(code: int, timestamp: Callable[[], Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("consultant", sa.String(code), nullable=False),
        sa.Column("program", sa.String(code)),
        sa.Column("county", sa.String(code), nullable=False),
        sa.Column("setting", sa.String(code)),
        sa.Column("target", sa.String(code), nullable=False),
        sa.Column("opened", sa.Date, nullable=False),
        sa.Column("closed", sa.Date),
        sa.Column("referral_source", sa.String(code)),
        sa.Column("reasons", sa.Text),
        sa.Column("goals_set", sa.Integer),
        sa.Column("goals_met", sa.Integer),
        sa.Column("closure_reason", sa.String(code)),
        sa.Column("placement_at_close", sa.String(code)),
        sa.Column("follow_up", sa.Date),
        sa.Column("placement_at_follow_up", sa.String(code)),
        sa.Column("region", sa.String(code)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", timestamp(), nullable=False),
    ]


def request_columns(code: int, timestamp: Callable[[], Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("source", sa.String(code), nullable=False),
        sa.Column("county", sa.String(code), nullable=False),
        sa.Column("program", sa.String(code)),
        sa.Column("setting", sa.String(code)),
        sa.Column("target", sa.String(code)),
        sa.Column("assigned", sa.Date),
        sa.Column("consultant", sa.String(code)),
        sa.Column("engagement", sa.String(ID)),
        sa.Column("not_served", sa.Date),
        sa.Column("not_served_reason", sa.String(code)),
        sa.Column("region", sa.String(code)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", timestamp(), nullable=False),
    ]


def indexes(prefix: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Per table: the secondary indexes (name, columns) of the own-rows reads."""
    p = prefix
    return {
        "engagements": [
            (f"{p}ix_engagements_consultant", ("consultant", "opened")),
            (f"{p}ix_engagements_program", ("program", "opened")),
        ],
        "requests": [(f"{p}ix_requests_received", ("received",))],
    }
