"""The code lists of engagements and requests, as a profile carries them under ``[codes]``.

Every list has a default, so a profile written before engagements existed still loads. Three
lists hold codes the measures read by name (a child kept in its setting is ``retained`` or
``planned_transition``; an outcome belongs to a ``child_family`` engagement; a request comes
from the ``helpline``, a ``program``, a ``family`` or somewhere ``other``): a profile may
relabel those codes and add its own, never drop one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from ._errors import ProfileError

#: what an engagement works with: a whole program, one classroom, or one child and family
TARGETS: tuple[str, ...] = ("program", "classroom", "child_family")
#: a child's placement at close or at follow-up
PLACEMENTS: tuple[str, ...] = ("retained", "planned_transition", "suspended", "expelled", "unknown")
#: the placements that count as kept in the setting (a planned move is not a removal)
KEPT: frozenset[str] = frozenset({"retained", "planned_transition"})
#: where a request for consultation came from
REQUEST_SOURCES: tuple[str, ...] = ("helpline", "program", "family", "other")

_DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "target": (
        ("program", "Whole program"),
        ("classroom", "Classroom"),
        ("child_family", "Child and family"),
    ),
    "reason": (
        ("challenging_behavior", "Challenging behavior"),
        ("expulsion_risk", "Risk of suspension or expulsion"),
        ("staff_wellness", "Staff wellness"),
        ("transitions", "Transitions"),
        ("trauma", "Trauma"),
        ("developmental_concern", "Developmental concern"),
        ("family_stress", "Family stress"),
        ("other", "Other"),
    ),
    "referral_source": (
        ("director", "Program director"),
        ("teacher", "Teacher or provider"),
        ("family", "Family"),
        ("helpline", "Helpline"),
        ("other", "Other"),
    ),
    "closure_reason": (
        ("goals_met", "Goals met"),
        ("partially_met", "Goals partly met"),
        ("program_ended", "Program ended consultation"),
        ("child_left", "Child left the program"),
        ("lost_contact", "Lost contact"),
        ("other", "Other"),
    ),
    "placement": (
        ("retained", "Retained in setting"),
        ("planned_transition", "Planned transition"),
        ("suspended", "Suspended"),
        ("expelled", "Expelled"),
        ("unknown", "Unknown"),
    ),
    "request_source": (
        ("helpline", "Helpline"),
        ("program", "Program"),
        ("family", "Family"),
        ("other", "Other"),
    ),
    "not_served_reason": (
        ("declined", "Declined"),
        ("no_capacity", "No consultant available"),
        ("out_of_area", "Out of service area"),
        ("referred_elsewhere", "Referred elsewhere"),
        ("lost_contact", "Lost contact"),
        ("other", "Other"),
    ),
}
#: the coded fields of engagements and requests, as ``[codes]`` keys
ENGAGEMENT_CODED_FIELDS: tuple[str, ...] = tuple(_DEFAULTS)
#: the codes a list must keep, because measures or rules read them
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "target": TARGETS,
    "placement": PLACEMENTS,
    "request_source": REQUEST_SOURCES,
}


class _Coded(Protocol):
    @property
    def code(self) -> str: ...


C = TypeVar("C", bound=_Coded)  # a profile's ``Code`` (not imported: the profile imports this)
Fail = Callable[..., ProfileError]


def complete_codes(
    codes: dict[str, tuple[C, ...]], make: Callable[[str, str], C], fail: Fail
) -> dict[str, tuple[C, ...]]:
    """``codes`` with every engagement list present (a default where the profile has none);
    raises ``fail(key, message, needle=…)`` for a list missing a code the measures need."""
    out = dict(codes)
    for field, defaults in _DEFAULTS.items():
        if field not in out:
            out[field] = tuple(make(code, label) for code, label in defaults)
            continue
        have = {c.code for c in out[field]}
        missing = [c for c in _REQUIRED.get(field, ()) if c not in have]
        if missing:
            raise fail(
                f"codes.{field}",
                f"must keep the codes {', '.join(missing)} (the engagement measures read "
                "them); relabel them if you like, and add your own beside them",
                needle=field,
            )
    return out
