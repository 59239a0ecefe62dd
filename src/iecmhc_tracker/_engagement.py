"""An :class:`Engagement`: one consultant's consultation with one program, classroom, or child
and family, from the day it opened to the day it closed, with its outcome.

It carries no child or staff identifier and no free text: a child-and-family engagement says
only where the child was at close and at follow-up. Its dosage (hours, sessions, weeks) is
never entered here: it is derived from the activities linked to it (``Activity.engagement``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from ._records import (
    CODE,
    CODES,
    DATE,
    OPT_CODE,
    OPT_DATE,
    OPT_INT,
    OPT_TEXT,
    TEXT,
    UUID,
    c_county,
    c_id,
    c_program,
    c_setting,
    from_mapping,
    iso,
)

#: field name -> converter, in the order of the fields
CONVERTERS = {
    "id": UUID,
    "consultant": TEXT,
    "program": OPT_TEXT,
    "county": CODE,
    "setting": OPT_CODE,
    "target": CODE,
    "opened": DATE,
    "closed": OPT_DATE,
    "referral_source": OPT_CODE,
    "reasons": CODES,
    "goals_set": OPT_INT,
    "goals_met": OPT_INT,
    "closure_reason": OPT_CODE,
    "placement_at_close": OPT_CODE,
    "follow_up": OPT_DATE,
    "placement_at_follow_up": OPT_CODE,
}
REQUIRED = ("consultant", "county", "target", "opened")


# named, typed converters (the attrs plugin of type checkers reads only those)
def _c_consultant(v: Any) -> str:
    return TEXT("consultant", v)


def _c_target(v: Any) -> str:
    return CODE("target", v)


def _c_opened(v: Any) -> dt.date:
    return DATE("opened", v)


def _c_closed(v: Any) -> dt.date | None:
    return OPT_DATE("closed", v)


def _c_referral_source(v: Any) -> str | None:
    return OPT_CODE("referral_source", v)


def _c_reasons(v: Any) -> tuple[str, ...]:
    return CODES("reasons", v)


def _c_goals_set(v: Any) -> int | None:
    return OPT_INT("goals_set", v)


def _c_goals_met(v: Any) -> int | None:
    return OPT_INT("goals_met", v)


def _c_closure_reason(v: Any) -> str | None:
    return OPT_CODE("closure_reason", v)


def _c_placement_at_close(v: Any) -> str | None:
    return OPT_CODE("placement_at_close", v)


def _c_follow_up(v: Any) -> dt.date | None:
    return OPT_DATE("follow_up", v)


def _c_placement_at_follow_up(v: Any) -> str | None:
    return OPT_CODE("placement_at_follow_up", v)


@attrs.frozen(slots=True)
class Engagement:
    """One consultation engagement. Build one directly or with :meth:`from_dict`.

    ``target`` is ``program``, ``classroom`` or ``child_family``; ``reasons`` are the
    profile's reason codes; ``goals_set``/``goals_met`` count the shared measures of success;
    the placements (``retained``, ``planned_transition``, ``suspended``, ``expelled``,
    ``unknown``) apply to child-and-family engagements only, at ``closed`` and at the
    ``follow_up`` date.
    """

    consultant: str = attrs.field(converter=_c_consultant)
    county: str = attrs.field(converter=c_county)
    target: str = attrs.field(converter=_c_target)
    opened: dt.date = attrs.field(converter=_c_opened)
    id: uuid.UUID = attrs.field(factory=uuid.uuid4, converter=c_id)
    program: str | None = attrs.field(default=None, converter=c_program)
    setting: str | None = attrs.field(default=None, converter=c_setting)
    closed: dt.date | None = attrs.field(default=None, converter=_c_closed)
    referral_source: str | None = attrs.field(default=None, converter=_c_referral_source)
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_c_reasons)
    goals_set: int | None = attrs.field(default=None, converter=_c_goals_set)
    goals_met: int | None = attrs.field(default=None, converter=_c_goals_met)
    closure_reason: str | None = attrs.field(default=None, converter=_c_closure_reason)
    placement_at_close: str | None = attrs.field(default=None, converter=_c_placement_at_close)
    follow_up: dt.date | None = attrs.field(default=None, converter=_c_follow_up)
    placement_at_follow_up: str | None = attrs.field(
        default=None, converter=_c_placement_at_follow_up
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Engagement:
        """Read an engagement from a mapping, reporting every unreadable field at once
        (a ``"type": "engagement"`` key is allowed: it names the record type)."""
        return from_mapping(cls, "Engagement", CONVERTERS, REQUIRED, data)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-friendly mapping (the inverse of :meth:`from_dict`)."""
        out = {name: getattr(self, name) for name in CONVERTERS}
        out.update(
            id=str(self.id),
            opened=self.opened.isoformat(),
            closed=iso(self.closed),
            follow_up=iso(self.follow_up),
            reasons=list(self.reasons),
        )
        return out

    def evolve(self, **changes: Any) -> Engagement:
        return attrs.evolve(self, **changes)
