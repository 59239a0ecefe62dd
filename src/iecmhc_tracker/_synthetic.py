"""Synthetic, realistic activity for any profile: demos, tests and benchmarks.

Consultants have a home county and a caseload of programs in a few settings; activity follows
the school year (quiet in July and late December); kinds, types and methods follow plausible
weights. Every generated activity is valid under its profile. The randomness here is for
making data only — privacy noise never comes from this module.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ._model import Activity
from ._profile import Profile

_KIND_WEIGHTS = {
    "consultation": 70,
    "training": 9,
    "helpline_call": 14,
    "group_session": 6,
    "referral_only": 8,
    "admin_policy": 4,
    "consultant_training": 2,
}
_MONTH_WEIGHTS = {1: 10, 2: 10, 3: 11, 4: 10, 5: 10, 6: 6, 7: 4, 8: 7, 9: 11, 10: 11, 11: 9, 12: 7}
#: relative weight of the most populous counties of the shipped states (others weigh 1)
_POPULOUS = {
    "cook": 40, "dupage": 8, "lake": 6, "will": 6, "kane": 5, "winnebago": 3, "st_clair": 3,
    "los_angeles": 40, "san_diego": 12, "orange": 12, "riverside": 10, "san_bernardino": 10,
    "santa_clara": 8, "alameda": 7, "sacramento": 6, "fresno": 4,
    "yellowstone": 8, "missoula": 6, "gallatin": 6, "flathead": 5, "cascade": 5,
}  # fmt: skip
_TYPE_WEIGHTS = {"programmatic": 3, "classroom": 5, "child_family": 4}


def generate(
    profile: Profile,
    n: int = 5000,
    *,
    consultants: int = 60,
    seed: int = 1,
    fiscal_years: int = 3,
    today: dt.date | None = None,
    notes: bool = True,
) -> Iterator[Activity]:
    """Yield ``n`` valid activities by ``consultants`` consultants over the last
    ``fiscal_years`` fiscal years (ending at ``today``)."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    first_fy = profile.fiscal_year(today) - fiscal_years + 1
    start = max(profile.fiscal_year_bounds(first_fy)[0], profile.start_date)
    span = (today - start).days
    if span < 0:
        raise ValueError("the profile's start date is after today")
    counties = [c.code for c in profile.counties]
    # populous counties get most consultants, as in real states
    county_weights = [_POPULOUS.get(c, 1) for c in counties]
    kinds = [k for k in profile.kinds if k in _KIND_WEIGHTS] or list(profile.kinds)
    kind_weights = [_KIND_WEIGHTS.get(k, 5) for k in kinds]
    settings = sorted(profile.code_set("setting"))
    team = [_Consultant(rng, i, counties, county_weights, settings) for i in range(consultants)]
    # caseload sizes differ: some consultants log far more than others
    activity_weights = [rng.paretovariate(2.5) for _ in team]
    for _ in range(n):
        c = rng.choices(team, activity_weights)[0]
        day = _day(rng, start, span)
        kind = rng.choices(kinds, kind_weights)[0]
        yield _activity(rng, profile, c, day, kind, notes)


class _Consultant:
    def __init__(
        self,
        rng: random.Random,
        i: int,
        counties: list[str],
        weights: list[int],
        settings: list[str],
    ) -> None:
        self.id = f"c-{i:04d}"
        home = rng.choices(counties, weights)[0]
        self.counties = [home, *rng.sample(counties, min(2, len(counties)))]
        self.programs = [
            (f"p-{i:04d}-{j}", rng.choice(settings) if settings else None)
            for j in range(rng.randint(3, 8))
        ]


def _day(rng: random.Random, start: dt.date, span: int) -> dt.date:
    while True:
        day = start + dt.timedelta(days=rng.randint(0, span))
        if day.weekday() < 5 and rng.random() * 11 < _MONTH_WEIGHTS[day.month]:
            return day


def _pick(rng: random.Random, profile: Profile, field: str) -> str | None:
    codes = sorted(profile.code_set(field))
    if not codes:
        return None
    if field == "consultation_type":
        return rng.choices(codes, [_TYPE_WEIGHTS.get(c, 1) for c in codes])[0]
    return rng.choice(codes)


_NOTES = (
    "Reflected with the lead teacher about transitions after nap time.",
    "Modeled co-regulation strategies during circle time in Room 4.",
    "Met with the 3 classroom teachers to plan next steps.",
    "Follow-up in two weeks; director asked about the expulsion policy.",
)


def _activity(
    rng: random.Random, profile: Profile, c: _Consultant, day: dt.date, kind: str, notes: bool
) -> Activity:
    program, setting = rng.choice(c.programs)
    spec = profile.kinds[kind]
    fields: dict[str, Any] = {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "consultant": c.id,
        "date": day,
        "county": rng.choice(c.counties) if rng.random() < 0.2 else c.counties[0],
        "kind": kind,
    }
    if kind != "helpline_call":
        fields["program"] = program
        fields["setting"] = setting
    for field in ("tier", "modality", "format", "language"):
        if field in spec.required or (field not in spec.forbidden and rng.random() < 0.5):
            fields[field] = _pick(rng, profile, field)
    if kind == "consultation" and profile.code_set("tier"):
        fields["tier"] = "intensive"
    elif kind == "helpline_call":
        fields["tier"] = "universal"
    elif kind == "group_session" and profile.code_set("tier"):
        fields["tier"] = rng.choice(["targeted", "universal"])
    if "consultation_type" not in spec.forbidden and kind in ("consultation", "admin_policy"):
        fields["consultation_type"] = (
            "programmatic" if kind == "admin_policy" else _pick(rng, profile, "consultation_type")
        )
    if "hours" not in spec.forbidden and kind != "referral_only":
        quarters = max(1, min(96, round(rng.lognormvariate(0.4, 0.6) * 4)))
        fields["hours"] = Decimal(quarters) / 4
    if "minutes" in spec.required:
        fields["minutes"] = rng.randint(3, 42)
        fields["recommended_consultation"] = rng.random() < 0.3
    if profile.code_set("methods") and kind in ("consultation", "training"):
        fields["methods"] = rng.sample(sorted(profile.code_set("methods")), rng.randint(1, 3))
    if profile.code_set("competencies") and kind == "consultation":
        fields["competencies"] = rng.sample(sorted(profile.code_set("competencies")), 2)
    if kind == "consultation":
        fields["children_benefiting"] = rng.randint(0, 20)
        fields["staff_influenced"] = rng.randint(1, 6)
    if kind in ("group_session", "training"):
        fields["participants"] = rng.randint(3, 30)
        fields["rated_worthwhile"] = rng.randint(0, fields["participants"])
    resources = sorted(profile.code_set("resource_type"))
    if resources and (kind == "referral_only" or (kind == "consultation" and rng.random() < 0.1)):
        fields["referrals"] = {rng.choice(resources): rng.randint(1, 3)}
    extra: dict[str, Any] = {}
    for name, f in profile.fields.items():
        if f.kinds and kind not in f.kinds:
            continue
        if f.type == "code":
            extra[name] = rng.choice([x.code for x in f.codes])
        elif f.type == "bool":
            extra[name] = rng.random() < 0.2
    if extra:
        fields["extra"] = extra
    if "language" in spec.required and not fields.get("language"):
        fields["language"] = _pick(rng, profile, "language")
    if notes and rng.random() < 0.05:
        fields["note"] = rng.choice(_NOTES)
    return Activity(**fields)
