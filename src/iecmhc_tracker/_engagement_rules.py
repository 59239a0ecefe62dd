"""Validation of engagements and requests: small rules, each yielding the problems it finds.

As for activities (``_validate``), every rule runs and every problem is returned, never only
the first. Pseudonyms go through the same check as an activity's (no name, e-mail or phone
shape); there is no free text to screen, on purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._engagement import Engagement
from ._errors import Problem, ValidationError
from ._profile import Profile
from ._request import Request
from ._text import pseudonym_problems
from ._validate import _GOOD_IDS, _id_ok

#: the most goals one engagement may set (the Illinois Model's shared measures are a handful)
MAX_GOALS = 50

EngagementRule = Callable[[Engagement, Profile, dt.date], Iterator[Problem]]
RequestRule = Callable[[Request, Profile, dt.date], Iterator[Problem]]


def _pseudonym(field: str, value: str | None, required: bool) -> Iterator[Problem]:
    if value is None:
        if required:
            yield Problem(field, "required", "is required")
        return
    if value in _GOOD_IDS or _id_ok(value):  # ids already seen well-formed pass at once
        return
    yield from pseudonym_problems(field, value)


def _coded(
    field: str, value: str | None, p: Profile, list_name: str | None = None
) -> Iterator[Problem]:
    if value is None:
        return
    allowed = p.code_set(list_name or field)
    if value not in allowed:
        shown = ", ".join(sorted(allowed)[:12]) + (" …" if len(allowed) > 12 else "")
        safe = value[:40] if value.isprintable() else value[:40].encode("unicode_escape").decode()
        yield Problem(
            field,
            "unknown_code",
            f"unknown {list_name or field} code {safe!r}; expected one of: {shown}",
        )


def _day(field: str, day: dt.date | None, p: Profile, today: dt.date) -> Iterator[Problem]:
    if day is None:
        return
    if day > today:
        yield Problem(field, "future", f"{day.isoformat()} is in the future")
    elif day < p.start_date:
        yield Problem(
            field,
            "too_early",
            f"{day.isoformat()} is before the {p.label} tracker starts "
            f"({p.start_date.isoformat()})",
        )


def _not_before(field: str, day: dt.date | None, other: str, start: dt.date) -> Iterator[Problem]:
    if day is not None and day < start:
        yield Problem(
            field, "before_" + other, f"{day.isoformat()} is before {other} ({start.isoformat()})"
        )


# -- engagements -----------------------------------------------------------------------------


def engagement_people(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    yield from _pseudonym("consultant", e.consultant, True)
    yield from _pseudonym("program", e.program, False)


def engagement_codes(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    yield from _coded("county", e.county, p)
    yield from _coded("setting", e.setting, p)
    yield from _coded("target", e.target, p)
    yield from _coded("referral_source", e.referral_source, p)
    for reason in e.reasons:
        yield from _coded("reasons", reason, p, "reason")
    yield from _coded("closure_reason", e.closure_reason, p)
    yield from _coded("placement_at_close", e.placement_at_close, p, "placement")
    yield from _coded("placement_at_follow_up", e.placement_at_follow_up, p, "placement")


def engagement_dates(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    yield from _day("opened", e.opened, p, today)
    yield from _day("closed", e.closed, p, today)
    yield from _day("follow_up", e.follow_up, p, today)
    yield from _not_before("closed", e.closed, "opened", e.opened)
    if e.follow_up is not None:
        if e.closed is None:
            yield Problem(
                "follow_up", "not_closed", "a follow-up comes after closing; set closed first"
            )
        else:
            yield from _not_before("follow_up", e.follow_up, "closed", e.closed)


def engagement_closure(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    if e.closed is None:
        if e.closure_reason is not None:
            yield Problem(
                "closure_reason", "not_closed", "applies only once the engagement is closed"
            )
        if e.placement_at_close is not None:
            yield Problem(
                "placement_at_close", "not_closed", "applies only once the engagement is closed"
            )
    elif e.closure_reason is None:
        yield Problem("closure_reason", "required", "is required when the engagement is closed")


def engagement_outcomes(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    """A child's placement is an outcome of a child-and-family engagement only."""
    if e.target != "child_family":
        for name in ("placement_at_close", "placement_at_follow_up"):
            if getattr(e, name) is not None:
                yield Problem(
                    name,
                    "not_applicable",
                    f"applies only to a child_family engagement, not a {e.target} one",
                )
    if e.placement_at_follow_up is not None and e.follow_up is None:
        yield Problem("follow_up", "required", "is required with placement_at_follow_up")
    if e.follow_up is not None and e.placement_at_follow_up is None and e.target == "child_family":
        yield Problem("placement_at_follow_up", "required", "is required with a follow_up date")


def engagement_goals(e: Engagement, p: Profile, today: dt.date) -> Iterator[Problem]:
    for name in ("goals_set", "goals_met"):
        v = getattr(e, name)
        if v is not None and v < 0:
            yield Problem(name, "negative", "must not be negative")
        elif v is not None and v > MAX_GOALS:
            yield Problem(name, "too_large", f"must be at most {MAX_GOALS}")
    if e.goals_met is not None:
        if e.goals_set is None:
            yield Problem("goals_set", "required", "is required with goals_met")
        elif e.goals_met > e.goals_set:
            yield Problem("goals_met", "exceeds", "cannot be more than goals_set")


ENGAGEMENT_RULES: tuple[EngagementRule, ...] = (
    engagement_people,
    engagement_codes,
    engagement_dates,
    engagement_closure,
    engagement_outcomes,
    engagement_goals,
)


# -- requests --------------------------------------------------------------------------------


def request_fields(r: Request, p: Profile, today: dt.date) -> Iterator[Problem]:
    yield from _pseudonym("program", r.program, False)
    yield from _pseudonym("consultant", r.consultant, False)
    yield from _coded("source", r.source, p, "request_source")
    yield from _coded("county", r.county, p)
    yield from _coded("setting", r.setting, p)
    yield from _coded("target", r.target, p)
    yield from _coded("not_served_reason", r.not_served_reason, p)


def request_dates(r: Request, p: Profile, today: dt.date) -> Iterator[Problem]:
    yield from _day("received", r.received, p, today)
    yield from _day("assigned", r.assigned, p, today)
    yield from _day("not_served", r.not_served, p, today)
    yield from _not_before("assigned", r.assigned, "received", r.received)
    yield from _not_before("not_served", r.not_served, "received", r.received)


def request_outcome(r: Request, p: Profile, today: dt.date) -> Iterator[Problem]:
    """A request ends one way: assigned, or closed without service (with a reason)."""
    if r.assigned is not None and r.not_served is not None:
        yield Problem(
            "not_served",
            "conflict",
            "a request is either assigned or closed without service, not both",
        )
    if r.assigned is None:
        for name in ("consultant", "engagement"):
            if getattr(r, name) is not None:
                yield Problem(name, "not_assigned", "applies only once the request is assigned")
    if r.not_served is None and r.not_served_reason is not None:
        yield Problem("not_served", "required", "is required with not_served_reason")
    if r.not_served is not None and r.not_served_reason is None:
        yield Problem(
            "not_served_reason", "required", "is required when a request is closed without service"
        )


REQUEST_RULES: tuple[RequestRule, ...] = (request_fields, request_dates, request_outcome)


# -- entry points ----------------------------------------------------------------------------


def engagement_problems(e: Engagement, p: Profile, today: dt.date) -> list[Problem]:
    if p.derived("engagement_rules.clean", _compile_clean)(e, today):
        return []
    return [problem for rule in ENGAGEMENT_RULES for problem in rule(e, p, today)]


def _compile_clean(p: Profile) -> Callable[[Engagement, dt.date], bool]:
    """Whether every rule finds nothing, in one pass of the rules' own comparisons (True
    only where each would find nothing; anything else runs the rules one by one)."""
    counties, settings, targets = p.code_set("county"), p.code_set("setting"), p.code_set("target")
    sources, reasons = p.code_set("referral_source"), p.code_set("reason")
    closures, placements = p.code_set("closure_reason"), p.code_set("placement")
    start = p.start_date

    def clean(e: Engagement, today: dt.date) -> bool:
        c, prog = e.consultant, e.program
        if not (c in _GOOD_IDS or _id_ok(c)) or not (
            prog is None or prog in _GOOD_IDS or _id_ok(prog)
        ):
            return False
        if e.county not in counties or e.target not in targets:
            return False
        if (e.setting is not None and e.setting not in settings) or (
            e.referral_source is not None and e.referral_source not in sources
        ):
            return False
        if e.reasons and not reasons.issuperset(e.reasons):
            return False
        if not start <= e.opened <= today:
            return False
        closed, child = e.closed, e.target == "child_family"
        if closed is None:
            if e.closure_reason is not None or e.placement_at_close is not None or e.follow_up:
                return False
        elif not (
            e.opened <= closed <= today
            and e.closure_reason in closures
            and (e.placement_at_close is None or (child and e.placement_at_close in placements))
        ):
            return False
        follow, later = e.follow_up, e.placement_at_follow_up
        if follow is None:
            if later is not None:
                return False
        elif not (
            closed is not None
            and closed <= follow <= today
            and ((child and later in placements) or (not child and later is None))
        ):
            return False
        g_set, g_met = e.goals_set, e.goals_met
        if g_set is not None and not 0 <= g_set <= MAX_GOALS:
            return False
        return g_met is None or (g_set is not None and 0 <= g_met <= g_set)

    return clean


def request_problems(r: Request, p: Profile, today: dt.date) -> list[Problem]:
    return [problem for rule in REQUEST_RULES for problem in rule(r, p, today)]


def examine_engagement(
    record: Engagement | Mapping[str, Any], p: Profile, today: dt.date
) -> tuple[Engagement | None, list[Problem]]:
    """The engagement (None when it cannot be read) and every problem of ``record``."""
    if not isinstance(record, Engagement):
        try:
            record = Engagement.from_dict(record)
        except ValidationError as exc:
            return None, list(exc.problems)
    return record, engagement_problems(record, p, today)


def examine_request(
    record: Request | Mapping[str, Any], p: Profile, today: dt.date
) -> tuple[Request | None, list[Problem]]:
    """The request (None when it cannot be read) and every problem of ``record``."""
    if not isinstance(record, Request):
        try:
            record = Request.from_dict(record)
        except ValidationError as exc:
            return None, list(exc.problems)
    return record, request_problems(record, p, today)
