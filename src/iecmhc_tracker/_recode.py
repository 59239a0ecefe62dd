"""An activity's codes as its profile spells them: "Cook" becomes ``cook``, "La Paz"
``la_paz``, "Head Start" ``head_start`` (matched by code or label, case and accents aside,
with :class:`~iecmhc_tracker._codematch.CodeMatcher`). Values that match no code are left
as they are, for validation to refuse with its "did you mean"."""

from __future__ import annotations

from typing import Any

from ._model import Activity
from ._profile import Profile

#: fields holding one code, and the code list each is matched against
SINGLE: tuple[str, ...] = (
    "county",
    "kind",
    "setting",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "language",
)
MANY: tuple[str, ...] = ("methods", "competencies")


def recode(a: Activity, p: Profile) -> Activity:
    """``a`` with every code that names one of the profile's codes in another spelling
    replaced by that code (``a`` itself when there is none)."""
    changes: dict[str, Any] = {}
    for field in SINGLE:
        value = getattr(a, field)
        if value is not None and value not in p.code_set(field):
            code = p.matcher(field).match(value)
            if code is not None:
                changes[field] = code
    for field in MANY:
        values = getattr(a, field)
        if values and not p.code_set(field).issuperset(values):
            matcher = p.matcher(field)
            changes[field] = tuple(sorted({matcher.match(v) or v for v in values}))
    if a.referrals and not p.code_set("resource_type").issuperset(c for c, _ in a.referrals):
        matcher = p.matcher("resource_type")
        merged: dict[str, int] = {}
        for code, count in a.referrals:
            key = matcher.match(code) or code
            merged[key] = merged.get(key, 0) + count
        changes["referrals"] = tuple(sorted(merged.items()))
    extra = _extra(a, p)
    if extra is not None:
        changes["extra"] = extra
    return a.evolve(**changes) if changes else a


def _extra(a: Activity, p: Profile) -> tuple[tuple[str, Any], ...] | None:
    """The extra fields with their codes recoded (``None`` when none changes)."""
    out: list[tuple[str, Any]] = []
    changed = False
    for name, value in a.extra:
        spec = p.fields.get(name)
        coded = spec is not None and spec.type == "code" and isinstance(value, str)
        if coded and value not in p.code_set(name):
            code = p.matcher(name).match(value)
            if code is not None:
                value, changed = code, True
        out.append((name, value))
    return tuple(out) if changed else None
