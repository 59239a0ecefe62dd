"""Synthetic engagements and requests for any profile, with the activities linked to them.

Within the ranges the field reports: consultation runs 1–6 hours a week per setting for 6
weeks to 12 months (NCCP's PRiSM profiles); about 93 % of children in child-and-family
engagements stay in their setting at close (Ohio 87.8 %, Connecticut 99 %); about 88 % of
requests become an assignment (California 2019–20: 162 requests, 143 consultations), the
rest closed without service or still waiting. Randomness here only makes data.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import attrs

from ._engagement import Engagement
from ._model import Activity
from ._profile import Profile
from ._request import Request
from ._synthetic import _POPULOUS, _activity, _Consultant

_TARGETS = {"program": 3, "classroom": 4, "child_family": 4}
_TYPE_OF_TARGET = {
    "program": "programmatic",
    "classroom": "classroom",
    "child_family": "child_family",
}
_PLACEMENTS = {
    "retained": 85,
    "planned_transition": 8,
    "suspended": 3,
    "expelled": 1.5,
    "unknown": 2.5,
}
_CLOSURES = {"goals_met": 55, "partially_met": 25}


@attrs.frozen(slots=True)
class EngagementData:
    engagements: tuple[Engagement, ...]
    requests: tuple[Request, ...]
    #: the weekly consultation entries of the engagements (``Activity.engagement`` set)
    activities: tuple[Activity, ...]


def generate_engagements(
    profile: Profile,
    n: int = 200,
    *,
    consultants: int = 30,
    seed: int = 1,
    fiscal_years: int = 3,
    today: dt.date | None = None,
    linked: bool = True,
) -> EngagementData:
    """``n`` valid engagements over the last ``fiscal_years`` fiscal years, their requests
    (and more requests not served), and with ``linked`` a weekly linked activity each."""
    # a stream of its own: the same seed never gives an activity's id to an engagement
    rng = random.Random(f"engagements:{seed}")
    today = today or dt.date.today()
    first_fy = profile.fiscal_year(today) - fiscal_years + 1
    start = max(profile.fiscal_year_bounds(first_fy)[0], profile.start_date)
    span = (today - start).days
    counties = [c.code for c in profile.counties]
    weights = [_POPULOUS.get(c, 1) for c in counties]
    settings = sorted(profile.code_set("setting"))
    team = [_Consultant(rng, i, counties, weights, settings) for i in range(consultants)]
    kind = "consultation" if "consultation" in profile.kinds else next(iter(profile.kinds))
    targets = [t for t in _TARGETS if t in profile.code_set("target")]
    reasons = sorted(profile.code_set("reason"))
    closures = sorted(profile.code_set("closure_reason"))
    sources = sorted(profile.code_set("referral_source"))
    request_sources = sorted(profile.code_set("request_source"))
    not_served = sorted(profile.code_set("not_served_reason"))
    types = profile.code_set("consultation_type")
    engagements: list[Engagement] = []
    requests: list[Request] = []
    activities: list[Activity] = []

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    for _ in range(n):
        c = rng.choice(team)
        program, setting = rng.choice(c.programs)
        county = c.counties[0]
        target = rng.choices(targets, [_TARGETS[t] for t in targets])[0]
        opened = start + dt.timedelta(days=rng.randint(0, span))
        weeks = rng.randint(6, 52)
        closed: dt.date | None = opened + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
        if closed is not None and closed > today:
            closed = None
        goals = rng.randint(1, 5)
        e = Engagement(
            id=uid(),
            consultant=c.id,
            program=program,
            county=county,
            setting=setting,
            target=target,
            opened=opened,
            referral_source=rng.choice(sources) if sources else None,
            reasons=tuple(rng.sample(reasons, rng.randint(1, min(3, len(reasons))))),
            goals_set=goals,
        )
        if closed is not None:
            met = min(goals, round(goals * rng.betavariate(4, 1.5)))
            reason = rng.choices(
                closures, [_CLOSURES.get(x, 20 / max(1, len(closures) - 2)) for x in closures]
            )[0]
            e = e.evolve(closed=closed, closure_reason=reason, goals_met=met)
            if target == "child_family":
                at_close = rng.choices(list(_PLACEMENTS), list(_PLACEMENTS.values()))[0]
                e = e.evolve(placement_at_close=at_close)
                follow = closed + dt.timedelta(days=30)
                if follow <= today and rng.random() < 0.7:
                    later = at_close if rng.random() < 0.95 else "unknown"
                    e = e.evolve(follow_up=follow, placement_at_follow_up=later)
        engagements.append(e)
        received = max(start, opened - dt.timedelta(days=rng.randint(2, 30)))
        requests.append(
            Request(
                id=uid(),
                received=received,
                source=rng.choice(request_sources),
                county=county,
                program=program,
                setting=setting,
                target=target,
                assigned=opened,
                consultant=c.id,
                engagement=e.id,
            )
        )
        if rng.random() < 0.133:  # a request that never became an engagement
            got = start + dt.timedelta(days=rng.randint(0, span))
            end = got + dt.timedelta(days=rng.randint(5, 60))
            requests.append(
                Request(
                    id=uid(),
                    received=got,
                    source=rng.choice(request_sources),
                    county=county,
                    setting=setting,
                    target=target,
                    not_served=end if end <= today else None,
                    not_served_reason=rng.choice(not_served) if end <= today else None,
                )
            )
        if not linked:
            continue
        per_week = Decimal(rng.randint(4, 24)) / 4  # 1–6 hours a week
        last = closed or today
        day = opened
        while day <= last:
            a = _activity(rng, profile, c, day, kind, False)
            changes: dict[str, object] = {
                "program": program,
                "setting": setting,
                "county": county,
                "hours": per_week,
                "engagement": e.id,
            }
            if _TYPE_OF_TARGET[target] in types and a.consultation_type is not None:
                changes["consultation_type"] = _TYPE_OF_TARGET[target]
            activities.append(a.evolve(id=uid(), **changes))
            day += dt.timedelta(days=7)
    return EngagementData(tuple(engagements), tuple(requests), tuple(activities))
