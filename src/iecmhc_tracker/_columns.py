"""The flat row every store speaks: its columns and the dimensions a query may use.

A row is a ``dict`` with the keys of :data:`ROW_COLUMNS` plus ``"referrals"`` (resource type ->
count). This module is the row's definition only; ``_rows`` builds rows from activities.
"""

from __future__ import annotations

from typing import Any

#: Dimensions a table or query may group by (``resource_type``: a referral's, beside the row).
BASE_DIMENSIONS: tuple[str, ...] = (
    "county",
    "region",
    "setting",
    "kind",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "language",
    "fiscal_year",
    "quarter",
    "resource_type",
)

Row = dict[str, Any]

#: Columns of a stored activity row, in order (``referrals`` travels beside them).
ROW_COLUMNS: tuple[str, ...] = (
    "id",
    "consultant",
    "program",
    "date",
    "fiscal_year",
    "quarter",
    "county",
    "region",
    "setting",
    "kind",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "methods",
    "competencies",
    "hours",
    "minutes",
    "children_benefiting",
    "staff_influenced",
    "families",
    "participants",
    "rated_worthwhile",
    "referral_total",
    "recommended_consultation",
    "language",
    "note",
    "extra",
    "tags",
    "content_hash",
    "engagement",
)
#: Columns a query may filter or group on (referral resource types live beside the row).
DIMENSION_COLUMNS: tuple[str, ...] = tuple(d for d in BASE_DIMENSIONS if d != "resource_type")
