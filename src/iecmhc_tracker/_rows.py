"""Activity <-> store row: the flat, plain-primitive form every store speaks.

A row is a ``dict`` with the keys of :data:`ROW_COLUMNS` plus ``"referrals"`` (resource type ->
count). Derived values (fiscal year, quarter, region) are materialised here, at write time, so
that stores can filter and group on them in SQL; the Activity itself never carries them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

from ._model import Activity
from ._profile import BASE_DIMENSIONS, Profile

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
)
#: Columns a query may filter or group on (referral resource types live beside the row).
DIMENSION_COLUMNS: tuple[str, ...] = tuple(d for d in BASE_DIMENSIONS if d != "resource_type")


def to_row(a: Activity, profile: Profile) -> Row:
    """The store row of a (validated) activity."""
    extra = a.extra_fields
    tags = "".join(
        f"|{k}={_tag_value(v)}"
        for k, v in sorted(extra.items())
        if k in profile.fields and profile.fields[k].type in ("code", "bool") and v is not None
    )
    row: Row = {
        "id": str(a.id),
        "consultant": a.consultant,
        "program": a.program,
        "date": a.date,
        "fiscal_year": profile.fiscal_year(a.date),
        "quarter": profile.fiscal_quarter(a.date),
        "county": a.county,
        "region": profile.region_of(a.county),
        "setting": a.setting,
        "kind": a.kind,
        "consultation_type": a.consultation_type,
        "tier": a.tier,
        "modality": a.modality,
        "format": a.format,
        "methods": ",".join(a.methods),
        "competencies": ",".join(a.competencies),
        "hours": float(a.hours) if a.hours is not None else None,
        "minutes": a.minutes,
        "children_benefiting": a.children_benefiting,
        "staff_influenced": a.staff_influenced,
        "families": a.families,
        "participants": a.participants,
        "rated_worthwhile": a.rated_worthwhile,
        "referral_total": a.referral_total,
        "recommended_consultation": (
            None if a.recommended_consultation is None else int(a.recommended_consultation)
        ),
        "language": a.language,
        "note": a.note,
        "extra": json.dumps(extra, sort_keys=True) if extra else "",
        "tags": tags + "|" if tags else "",
        "referrals": dict(a.referrals),
    }
    row["content_hash"] = content_hash(a)
    return row


def _tag_value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def content_hash(a: Activity) -> str:
    """A digest of everything the consultant entered: equal content, equal hash."""
    payload = json.dumps(a.to_dict(), sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def from_row(row: Row) -> Activity:
    """The Activity a stored row holds (derived columns are dropped)."""
    extra = json.loads(row["extra"]) if row.get("extra") else {}
    hours = row.get("hours")
    rec = row.get("recommended_consultation")
    return Activity(
        id=uuid.UUID(str(row["id"])),
        consultant=row["consultant"],
        program=row.get("program"),
        date=row["date"],
        county=row["county"],
        setting=row.get("setting"),
        kind=row["kind"],
        consultation_type=row.get("consultation_type"),
        tier=row.get("tier"),
        modality=row.get("modality"),
        format=row.get("format"),
        methods=tuple(m for m in (row.get("methods") or "").split(",") if m),
        competencies=tuple(m for m in (row.get("competencies") or "").split(",") if m),
        hours=None if hours is None else Decimal(repr(float(hours))),
        minutes=row.get("minutes"),
        children_benefiting=row.get("children_benefiting"),
        staff_influenced=row.get("staff_influenced"),
        families=row.get("families"),
        participants=row.get("participants"),
        rated_worthwhile=row.get("rated_worthwhile"),
        referrals=row.get("referrals") or {},
        recommended_consultation=None if rec is None else bool(rec),
        language=row.get("language"),
        note=row.get("note"),
        extra=extra,
    )
