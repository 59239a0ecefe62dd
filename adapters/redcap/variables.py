"""A REDCap variable and the field of a record it carries (shared by every instrument)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen(slots=True)
class Variable:
    """One REDCap variable and the Activity field (or extra field) it carries."""

    name: str
    field: str  # Activity field; "extra.NAME" for a profile's extra field; "ref.CODE" for referrals
    type: str
    label: str
    choices: tuple[tuple[str, str, str], ...] = ()  # (REDCap code, profile code, label)
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    required: bool = False
    identifier: bool = False
    section: str = ""
    note: str = ""
    branching: str = ""


def _choices(codes: Sequence[Any]) -> tuple[tuple[str, str, str], ...]:
    """Numeric REDCap codes in the profile's order (labels may not hold REDCap's ``|``)."""
    return tuple((str(n), c.code, c.label.replace("|", "/")) for n, c in enumerate(codes, 1))
