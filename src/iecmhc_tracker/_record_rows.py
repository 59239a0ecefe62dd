"""Engagements and requests <-> store rows: flat dicts of plain values, as activities are.

A row holds the record's fields (``reasons`` as comma-separated codes), its county's region,
and its ``content_hash``: the SHA-256 (first 32 hex digits) of the ``repr`` of the tuple of
its field values in field order (None, text, numbers, dates, UUIDs and tuples of codes, each
with an unambiguous repr), by which a store tells a repeat from a conflict.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from ._columns import Row
from ._engagement import CONVERTERS as ENGAGEMENT_FIELDS
from ._engagement import Engagement
from ._profile import Profile
from ._request import CONVERTERS as REQUEST_FIELDS
from ._request import Request

#: the record types a store keeps beside activities, and their tables' columns in order
ENGAGEMENT_COLUMNS: tuple[str, ...] = (*ENGAGEMENT_FIELDS, "region", "content_hash")
REQUEST_COLUMNS: tuple[str, ...] = (*REQUEST_FIELDS, "region", "content_hash")
#: each record type's date columns (a store converts them for its driver)
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "engagement": ("opened", "closed", "follow_up"),
    "request": ("received", "assigned", "not_served"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "engagement": ENGAGEMENT_COLUMNS,
    "request": REQUEST_COLUMNS,
}


def record_hash(values: tuple[Any, ...]) -> str:
    # repr is exact for these types; a lone surrogate, which UTF-8 cannot hold, is escaped
    return hashlib.sha256(repr(values).encode("utf-8", "backslashreplace")).hexdigest()[:32]


def engagement_row(e: Engagement, profile: Profile) -> Row:
    row: Row = {name: getattr(e, name) for name in ENGAGEMENT_FIELDS}
    row["content_hash"] = record_hash(tuple(row.values()))
    row["id"] = str(e.id)
    row["reasons"] = ",".join(e.reasons)
    row["region"] = profile.region_of(e.county)
    return row


def request_row(r: Request, profile: Profile) -> Row:
    row: Row = {name: getattr(r, name) for name in REQUEST_FIELDS}
    row["content_hash"] = record_hash(tuple(row.values()))
    row["id"] = str(r.id)
    row["engagement"] = None if r.engagement is None else str(r.engagement)
    row["region"] = profile.region_of(r.county)
    return row


def from_engagement_row(row: Row) -> Engagement:
    values = {k: row[k] for k in ENGAGEMENT_FIELDS}
    values["id"] = uuid.UUID(str(row["id"]))
    values["reasons"] = tuple(c for c in (row["reasons"] or "").split(",") if c)
    return Engagement(**values)


def from_request_row(row: Row) -> Request:
    values = {k: row[k] for k in REQUEST_FIELDS}
    values["id"] = uuid.UUID(str(row["id"]))
    return Request(**values)


ROW_OF: dict[str, Callable[[Any, Profile], Row]] = {
    "engagement": engagement_row,
    "request": request_row,
}
