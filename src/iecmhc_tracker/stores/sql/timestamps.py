"""How the SQL store keeps timestamps: naive UTC in the database (portable across
dialects), aware UTC in what it returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..._errors import StorageError


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc_naive(value: Any) -> dt.datetime | None:
    """Timestamps are stored as naive UTC (portable across dialects)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise StorageError(f"a timestamp must be a datetime, not {type(value).__name__}")
    stamp: dt.datetime = value
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


def aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # pragma: no cover - SQLAlchemy parses SQLite's text
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    stamp: dt.datetime = value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
