"""Engagements and requests: reading, validation (every problem at once), recording through
the tracker, idempotent mixed imports, and dosage derived from linked activities."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker import _fact_store
from iecmhc_tracker.stores import MemoryStore
from strategies import TODAY, pseudonyms

PROFILES = {n: it.load_profile(n) for n in ("illinois", "california", "montana")}
IL = PROFILES["illinois"]
E = uuid.UUID("00000000-0000-4000-8000-00000000e001")


def _codes(p: it.Profile, field: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(p.code_set(field)))


@st.composite
def engagement_dicts(draw: st.DrawFn, p: it.Profile) -> dict[str, Any]:
    """A valid engagement under ``p``: any target, open or closed, outcomes where they apply."""
    span = (TODAY - p.start_date).days
    opened = p.start_date + dt.timedelta(days=draw(st.integers(0, span)))
    d: dict[str, Any] = {
        "id": str(draw(st.uuids())),
        "consultant": draw(pseudonyms),
        "county": draw(_codes(p, "county")),
        "target": draw(_codes(p, "target")),
        "opened": opened.isoformat(),
        "reasons": draw(st.lists(_codes(p, "reason"), max_size=3)),
    }
    if draw(st.booleans()):
        d["program"] = draw(pseudonyms)
    if draw(st.booleans()):
        d["referral_source"] = draw(_codes(p, "referral_source"))
    if draw(st.booleans()):
        d["goals_set"] = draw(st.integers(0, 10))
        d["goals_met"] = draw(st.integers(0, d["goals_set"]))
    if draw(st.booleans()):
        closed = opened + dt.timedelta(days=draw(st.integers(0, (TODAY - opened).days)))
        d["closed"] = closed.isoformat()
        d["closure_reason"] = draw(_codes(p, "closure_reason"))
        if d["target"] == "child_family":
            d["placement_at_close"] = draw(_codes(p, "placement"))
            if draw(st.booleans()):
                later = (TODAY - closed).days
                d["follow_up"] = (
                    closed + dt.timedelta(days=draw(st.integers(0, later)))
                ).isoformat()
                d["placement_at_follow_up"] = draw(_codes(p, "placement"))
    return d


#: faults one can inject in a valid engagement, and the (field, code) each must produce
FAULTS: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {
    "closed_before_opened": (
        {"opened": "2025-03-10", "closed": "2025-03-01", "closure_reason": "goals_met"},
        ("closed", "before_opened"),
    ),
    "too_many_goals_met": ({"goals_set": 2, "goals_met": 3}, ("goals_met", "exceeds")),
    "future_opening": ({"opened": "2027-01-01"}, ("opened", "future")),
    "unknown_reason": ({"reasons": ["astrology"]}, ("reasons", "unknown_code")),
    "unknown_county": ({"county": "atlantis"}, ("county", "unknown_code")),
    "named_consultant": ({"consultant": "Jane Smith"}, ("consultant", "pseudonym")),
}


def _problems(d: dict[str, Any], p: it.Profile = IL) -> set[tuple[str, str]]:
    t = it.Tracker.open("memory://", p, today=lambda: TODAY)
    try:
        t.record({"type": "engagement", **d})
    except it.ValidationError as exc:
        return {(x.field, x.code) for x in exc.problems}
    return set()


@pytest.mark.parametrize("name", PROFILES)
@given(data=st.data())
@settings(max_examples=60)
def test_every_valid_engagement_of_every_profile_is_accepted(name: str, data: Any) -> None:
    assert _problems(data.draw(engagement_dicts(PROFILES[name])), PROFILES[name]) == set()


@given(
    d=engagement_dicts(IL),
    faults=st.lists(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=4, unique=True),
)
@settings(max_examples=80)
def test_validation_reports_every_injected_fault_at_once(
    d: dict[str, Any], faults: list[str]
) -> None:
    bad = dict(d)
    for f in sorted(faults):  # a future opening comes after the closing it then precedes
        bad.update(FAULTS[f][0])
    found = _problems(bad)
    for f in faults:
        assert FAULTS[f][1] in found, f


@given(
    d=st.dictionaries(
        st.sampled_from(["consultant", "county", "target", "opened", "closed", "goals_set", "x"]),
        st.none() | st.text(max_size=8) | st.integers() | st.booleans() | st.dates(),
    )
)
@settings(max_examples=150)
def test_any_mapping_yields_problems_never_a_crash(d: dict[str, Any]) -> None:
    try:
        it.Tracker.open("memory://", IL, today=lambda: TODAY).record({"type": "engagement", **d})
    except it.ValidationError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


def _base(**kw: Any) -> dict[str, Any]:
    return {
        "type": "engagement",
        "id": str(E),
        "consultant": "c-1",
        "program": "p-1",
        "county": "cook",
        "target": "child_family",
        "opened": "2025-02-03",
        **kw,
    }


def test_outcomes_belong_to_child_and_family_engagements_only() -> None:
    found = _problems(
        _base(
            target="classroom",
            closed="2025-04-01",
            closure_reason="goals_met",
            placement_at_close="expelled",
        )
    )
    assert found == {("placement_at_close", "not_applicable")}


def test_a_closed_engagement_needs_a_reason_and_outcomes_need_closing() -> None:
    assert _problems(_base(closed="2025-04-01")) == {("closure_reason", "required")}
    assert _problems(_base(placement_at_close="retained", closure_reason="other")) == {
        ("placement_at_close", "not_closed"),
        ("closure_reason", "not_closed"),
    }


def test_a_request_is_assigned_or_closed_without_service_not_both() -> None:
    t = it.Tracker.open("memory://", IL, today=lambda: TODAY)
    base = {"type": "request", "received": "2025-01-10", "source": "helpline", "county": "cook"}
    with pytest.raises(it.ValidationError) as info:
        t.record({**base, "assigned": "2025-01-05", "not_served": "2025-01-12"})
    assert {(p.field, p.code) for p in info.value.problems} == {
        ("assigned", "before_received"),
        ("not_served", "conflict"),
        ("not_served_reason", "required"),
    }
    r = t.record({**base, "assigned": "2025-01-24", "consultant": "c-1"})
    assert isinstance(r, it.Request) and r.days_to_assignment == 14
    assert r.open_on(dt.date(2025, 1, 23)) and not r.open_on(dt.date(2025, 1, 24))
    assert not r.open_on(dt.date(2025, 1, 9))


def test_record_takes_all_three_types_and_is_idempotent(memory_tracker: it.Tracker) -> None:
    e = memory_tracker.record(_base())
    assert isinstance(e, it.Engagement) and e.reasons == ()
    assert memory_tracker.record(_base()) == e  # the same content again: a no-op
    with pytest.raises(it.ConflictError):
        memory_tracker.record(_base(setting="head_start"))
    a = memory_tracker.record(
        {
            "consultant": "c-1",
            "date": "2025-02-10",
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "child_family",
            "hours": "2",
            "engagement": str(E),
        }
    )
    assert isinstance(a, it.Activity) and a.engagement == E


def test_a_mixed_import_is_all_or_nothing_and_idempotent(memory_tracker: it.Tracker) -> None:
    act = {
        "type": "activity",
        "id": str(uuid.UUID(int=1)),
        "consultant": "c-1",
        "date": "2025-02-10",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "child_family",
        "hours": "1.5",
        "engagement": str(E),
    }
    req = {
        "type": "request",
        "id": str(uuid.UUID(int=2)),
        "received": "2025-01-20",
        "source": "program",
        "county": "cook",
        "assigned": "2025-02-01",
        "consultant": "c-1",
        "engagement": str(E),
    }
    bad = memory_tracker.record_many([act, req, _base(closed="2025-01-01")])
    assert bad.inserted == 0 and bad.rejected_rows == [3]
    assert memory_tracker.as_consultant("c-1").activities() == []
    good = memory_tracker.record_many([act, req, _base()])
    assert (good.inserted, good.duplicates, good.rejected) == (3, 0, ())
    again = memory_tracker.record_many(iter([_base(), act, req]))  # a stream, engagement first
    assert (again.inserted, again.duplicates) == (0, 3)


def test_a_stream_of_activities_refuses_an_engagement_among_them(
    memory_tracker: it.Tracker,
) -> None:
    act = {
        "consultant": "c-1",
        "date": "2025-02-10",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "child_family",
        "hours": "1",
    }
    result = memory_tracker.record_many(iter([act, _base()]))
    assert result.inserted == 0 and [p.code for p in result.rejected] == ["mixed_stream"]


def test_a_consultant_sees_her_engagements_with_dosage_from_linked_activities(
    memory_tracker: it.Tracker,
) -> None:
    memory_tracker.record(_base(closed="2025-03-16", closure_reason="goals_met"))
    memory_tracker.record(_base(id=str(uuid.UUID(int=9)), consultant="c-2", program="p-2"))
    for day, hours in (("2025-02-04", "2"), ("2025-02-11", "1.5"), ("2025-03-04", "2.5")):
        memory_tracker.record(
            {
                "consultant": "c-1",
                "program": "p-1",
                "date": day,
                "county": "cook",
                "kind": "consultation",
                "setting": "head_start",
                "consultation_type": "child_family",
                "hours": hours,
                "engagement": str(E),
            }
        )
    [mine] = memory_tracker.as_consultant("c-1").engagements()
    assert mine.engagement.id == E
    # 6 hours in 3 sessions over Feb 3 – Mar 16 (42 days: 6 weeks)
    assert (mine.dosage.hours, mine.dosage.sessions, mine.dosage.weeks) == (6.0, 3, 6.0)
    assert mine.dosage.hours_per_week == 1.0
    [theirs] = memory_tracker.as_program("p-2").engagements()
    assert theirs.engagement.consultant == "c-2" and theirs.dosage == it.Dosage()
    assert memory_tracker.as_consultant("c-3").engagements() == []


def test_a_profile_must_keep_the_codes_the_measures_read(tmp_path: Any) -> None:
    src = (
        __import__("importlib.resources").resources.files("iecmhc_tracker")
        / "profiles"
        / "montana.toml"
    ).read_text(encoding="utf-8")
    broken = src.replace(
        'target = ["program", "classroom", "child_family"]', 'target = ["program"]'
    )
    assert broken != src
    path = tmp_path / "mt.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(it.ProfileError, match=r"codes\.target.*classroom, child_family"):
        it.load_profile(path)


def test_a_profile_without_engagement_codes_gets_the_defaults(tmp_path: Any) -> None:
    src = (
        __import__("importlib.resources").resources.files("iecmhc_tracker")
        / "profiles"
        / "montana.toml"
    ).read_text(encoding="utf-8")
    start = src.index("# Engagements and requests")
    end = src.index("]\n", src.index("not_served_reason")) + 2
    path = tmp_path / "old.toml"
    path.write_text(src[:start] + src[end:], encoding="utf-8")
    p = it.load_profile(path)
    assert p.code_set("placement") == {
        "retained",
        "planned_transition",
        "suspended",
        "expelled",
        "unknown",
    }
    assert p.code_label("target", "child_family") == "Child and family"


def test_state_quantiles_are_exact_where_a_cell_may_be_shown(memory_tracker: it.Tracker) -> None:
    records: list[Any] = []
    n = 0
    for k in range(12):  # Cook: 12 six-week engagements of 3 consultants, 1–4 h a week
        eid = uuid.UUID(int=5000 + k)
        opened = dt.date(2025, 9, 1)
        records.append(
            it.Engagement(
                id=eid,
                consultant=f"c-{k % 3}",
                county="cook",
                target="classroom",
                opened=opened,
                closed=opened + dt.timedelta(days=41),
                closure_reason="goals_met",
            )
        )
        for w in range(6):
            n += 1
            records.append(
                it.Activity(
                    id=uuid.UUID(int=n),
                    consultant=f"c-{k % 3}",
                    date=opened + dt.timedelta(weeks=w),
                    county="cook",
                    kind="consultation",
                    setting="head_start",
                    consultation_type="classroom",
                    hours=k % 4 + 1,
                    engagement=eid,
                )
            )
        records.append(  # assigned after 1, 2, … 12 days
            it.Request(
                id=uuid.UUID(int=9000 + k),
                received=dt.date(2025, 9, 1),
                source="program",
                county="cook",
                assigned=dt.date(2025, 9, 1) + dt.timedelta(days=k + 1),
                consultant=f"c-{k % 3}",
            )
        )
    for k in range(5):  # Kane: too few to show
        records.append(
            it.Engagement(
                id=uuid.UUID(int=7000 + k),
                consultant=f"k-{k % 3}",
                county="kane",
                target="program",
                opened=dt.date(2025, 9, 1),
                closed=dt.date(2025, 11, 1),
                closure_reason="other",
            )
        )
        records.append(
            it.Activity(
                id=uuid.UUID(int=8000 + k),
                consultant=f"k-{k % 3}",
                date=dt.date(2025, 9, 2),
                county="kane",
                kind="consultation",
                setting="head_start",
                consultation_type="programmatic",
                hours=2,
                engagement=uuid.UUID(int=7000 + k),
            )
        )
    assert memory_tracker.record_many(records).ok
    q = memory_tracker.as_state().engagement_quantiles(2026, by="county")
    # hours a week 1,1,1,2,2,2,3,3,3,4,4,4: the 6th value and the 11th
    assert q["cook"] == {
        "median_hours_per_week": 2.0,
        "p90_hours_per_week": 4.0,
        "median_days_to_assignment": 6.0,
        "p90_days_to_assignment": 11.0,
    }
    # Kane: 5 engagements, fewer than min_count (11): nothing shown
    assert q["kane"]["median_hours_per_week"] is None
    assert q["kane"]["p90_hours_per_week"] is None


@given(
    d=engagement_dicts(IL),
    faults=st.lists(st.sampled_from(sorted(FAULTS)), max_size=3, unique=True),
    extra=st.sampled_from(
        [
            {},
            {"placement_at_close": "retained"},
            {"follow_up": "2026-10-01"},
            {"goals_met": 1},
            {"closure_reason": "goals_met"},
            {"target": "classroom"},
        ]
    ),
)
@settings(max_examples=400)
def test_the_compiled_check_passes_only_what_every_rule_passes(
    d: dict[str, Any], faults: list[str], extra: dict[str, Any]
) -> None:
    from iecmhc_tracker._engagement_rules import ENGAGEMENT_RULES, _compile_clean

    bad = {**d, **extra}
    for f in sorted(faults):
        bad.update(FAULTS[f][0])
    e = it.Engagement.from_dict(bad)
    found = [p for rule in ENGAGEMENT_RULES for p in rule(e, IL, TODAY)]
    assert _compile_clean(IL)(e, TODAY) == (not found)


def test_views_of_one_tracker_build_the_fact_rows_once_per_data_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A REST service makes a view per request: the engagements become fact rows once for
    unchanged data, and again after a change."""
    built = []
    real = _fact_store.fact_rows
    monkeypatch.setattr(_fact_store, "fact_rows", lambda *a: built.append(1) or real(*a))
    tracker = it.Tracker(MemoryStore("memory://"), IL, today=lambda: TODAY)
    data = it.generate_engagements(IL, 40, consultants=6, seed=2, today=TODAY, linked=False)
    assert tracker.record_many([*data.engagements, *data.requests]).ok
    year = IL.fiscal_year(TODAY)
    for by in (["region"], ["county"], []):
        lab = tracker.as_researcher(f"an-{len(by)}-{by}")
        lab.release(it.Query(["engagements"], by, {"fiscal_year": year}), epsilon=0.1)
    assert len(built) == 1
    more = it.generate_engagements(IL, 5, consultants=6, seed=9, today=TODAY, linked=False)
    assert tracker.record_many(list(more.engagements)).ok
    tracker.as_researcher("an-9").release(
        it.Query(["engagements"], ["region"], {"fiscal_year": year}), epsilon=0.1
    )
    assert len(built) == 2
