"""The measures of engagements and requests go through the same suppression engine, LP audit
and ledgers as hours: small cells of children are withheld and cannot be recovered from the
published margins, a DP release of ``engagements`` by region is charged like any other, and
a DP state table of them withholds nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest

import iecmhc_tracker as it
from iecmhc_tracker._accounting import STATE_ACCOUNT
from iecmhc_tracker._profile import TableSpec
from privacy.test_suppression import assert_protected, subtraction_leaks

TODAY = dt.date(2026, 11, 1)
FY = 2026  # Illinois: Jul 2025 – Jun 2026
IL = it.load_profile("illinois")
KEPT = TableSpec(
    name="kept_by_county",
    title="Children kept in their setting, by county",
    measures=("placed_at_close", "kept_at_close", "suspensions", "expulsions"),
    by=("county",),
    where={"kind": ("child_outcome",), "fiscal_year": (FY,)},
)
_n = 0


def child(consultant: str, county: str, placement: str, *, day: int = 0) -> it.Engagement:
    """A closed child-and-family engagement of FY2026 with the child's placement at close."""
    global _n
    _n += 1
    opened = dt.date(2025, 8, 1) + dt.timedelta(days=day)
    return it.Engagement(
        id=uuid.UUID(int=_n),
        consultant=consultant,
        county=county,
        target="child_family",
        opened=opened,
        closed=opened + dt.timedelta(days=60),
        closure_reason="goals_met",
        placement_at_close=placement,
    )


def crowd(counties: list[str], per: int = 3, each: int = 5) -> list[it.Engagement]:
    """Ordinary caseloads: ``per`` consultants a county, ``each`` children each, all kept."""
    return [
        child(f"{county}-{k}", county, "retained", day=d)
        for county in counties
        for k in range(per)
        for d in range(each)
    ]


def tracker_with(profile: it.Profile, records: list[Any], cache: Path | None = None) -> it.Tracker:
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY, cache_dir=cache)
    result = t.record_many(records)
    assert result.ok, result.rejected[:3]
    return t


@pytest.fixture(scope="module")
def kept_profile() -> it.Profile:
    return attrs.evolve(IL, tables=(KEPT,))


def test_published_shares_are_exact_and_small_cells_of_children_are_withheld(
    kept_profile: it.Profile,
) -> None:
    records = crowd(["cook", "dupage", "lake", "will"])
    # Kane: 15 children of 3 consultants, 2 suspended and 1 expelled
    kane = ["suspended", "suspended", "expelled"] + ["retained"] * 10 + ["planned_transition"] * 2
    records += [child(f"kane-{i % 3}", "kane", p, day=i) for i, p in enumerate(kane)]
    table = tracker_with(kept_profile, records).as_state().table("kept_by_county")
    kane_cell = table.cell("kane")
    assert dict(kane_cell.values) == {
        "placed_at_close": 15,
        "kept_at_close": 12,  # retained or moved as planned
        "suspensions": 2,
        "expulsions": 1,
    }
    assert table.cell("cook").values["kept_at_close"] == 15
    # Adams: 6 children, fewer than min_count (11): withheld, with a complement
    records += [child(f"adams-{i % 3}", "adams", "retained", day=i) for i in range(6)]
    tracker = tracker_with(kept_profile, records)
    tables = tracker.as_state().tables()
    assert tables["kept_by_county"].cell("adams").withheld
    assert assert_protected(tracker, tables) >= 2


def test_a_lone_consultants_expulsions_cannot_be_read_from_the_margins(
    kept_profile: it.Profile,
) -> None:
    """The attacker knows the state total and every other county's published cell, and
    subtracts. The lone consultant of Pope has 12 children (enough records) and 2 of them
    expelled; one consultant is below min_consultants, so Pope is withheld, and so is a
    complement that keeps the subtraction from giving it away."""
    records = crowd(["cook", "dupage", "lake", "will"])
    pope = ["expelled", "expelled"] + ["retained"] * 10
    records += [child("pope-0", "pope", p, day=i) for i, p in enumerate(pope)]
    tracker = tracker_with(kept_profile, records)
    tables = tracker.as_state().tables()
    table = tables["kept_by_county"]
    assert table.cell("pope").withheld
    total = table.total
    assert total is not None
    published = sum(
        c.values["expulsions"] or 0 for c in table.all_cells if not c.margin and not c.withheld
    )
    if total.values["expulsions"] is not None:
        # what subtraction gives is never Pope's own 2 alone
        assert (
            total.values["expulsions"] - published != 2
            or sum(1 for c in table.all_cells if not c.margin and c.withheld) > 1
        )
    assert subtraction_leaks(table) == []
    assert assert_protected(tracker, tables) >= 2


def test_a_dp_release_of_engagements_by_region_is_charged_like_hours(tmp_path: Path) -> None:
    data = it.generate_engagements(IL, 300, consultants=25, seed=4, today=TODAY)
    t = tracker_with(IL, [*data.engagements, *data.requests, *data.activities], tmp_path)
    session = t.as_researcher("an-1")
    q = it.Query(["engagements"], ["region"], {"fiscal_year": [FY]})
    release = session.release(q, epsilon=0.5)
    assert {e.cell for e in release.estimates} == {(r.code,) for r in IL.regions}
    assert all(e.value >= 0 and float(e.value).is_integer() for e in release.estimates)
    assert session.budget[FY].spent == pytest.approx(0.5)
    again = session.release(q, epsilon=0.5)  # the same release from the cache: no charge
    assert again.estimates == release.estimates
    assert session.budget[FY].spent == pytest.approx(0.5)
    ledger = t.store.ledger("an-1")
    assert [e["partitions"] for e in ledger if e["amount"] > 0] == [[f"FY{FY}"]]


def test_engagement_and_activity_measures_never_share_one_release(tmp_path: Path) -> None:
    t = it.Tracker.open("memory://", IL, today=lambda: TODAY, cache_dir=tmp_path)
    with pytest.raises(it.ValidationError, match="cannot share"):
        t.as_researcher("an-1").release(
            it.Query(["engagements", "hours"], ["region"], {"fiscal_year": [FY]}), epsilon=0.5
        )


def test_a_dp_state_table_of_engagements_withholds_nothing(tmp_path: Path) -> None:
    spec = TableSpec(
        name="engagements_dp",
        title="Engagements (DP)",
        measures=("engagements", "engagements_closed"),
        by=("region",),
        where={"kind": ("engagement",)},
        mode="dp",
        epsilon=0.5,
    )
    profile = attrs.evolve(
        IL, tables=(spec,), dp=attrs.evolve(IL.dp, state_epsilon_per_fiscal_year=2.0)
    )
    data = it.generate_engagements(profile, 200, consultants=20, seed=5, today=TODAY, linked=False)
    t = tracker_with(profile, [*data.engagements, *data.requests], tmp_path)
    table = t.as_state().table("engagements_dp")
    assert table.mode == "dp" and not any(c.withheld for c in table.all_cells)
    assert [e["amount"] for e in t.store.ledger(STATE_ACCOUNT) if e["amount"] > 0] == pytest.approx(
        [0.5]
    )


def test_requests_assignments_and_the_waitlist_at_month_end() -> None:
    profile = attrs.evolve(
        IL,
        tables=(
            TableSpec(
                name="requests",
                title="Requests",
                measures=("requests", "assignments", "days_to_assignment", "waitlist"),
                by=("fiscal_year",),
                where={"kind": ("request",)},
            ),
        ),
    )
    records: list[Any] = []
    for k in range(12):  # 12 requests of Sep 10, 2025 by 4 consultants' counties
        r = it.Request(
            id=uuid.UUID(int=1000 + k),
            received=dt.date(2025, 9, 10),
            source="helpline",
            county="cook",
            consultant=f"c-{k % 4}",
            assigned=dt.date(2025, 9, 10) + dt.timedelta(days=10 + 30 * (k % 2)),
        )
        records.append(r)
    t = tracker_with(profile, records)
    cell = t.as_state().table("requests").cell(FY)
    # 6 assigned after 10 days (Sep 20) and 6 after 40 (Oct 20): 6 × 10 + 6 × 40 days, and
    # the 6 of Oct 20 were waiting at the end of September
    assert dict(cell.values) == {
        "requests": 12,
        "assignments": 12,
        "days_to_assignment": 300,
        "waitlist": 6,
    }


def test_a_dp_median_of_dosage_is_charged_on_the_analysts_fiscal_year(tmp_path: Path) -> None:
    data = it.generate_engagements(IL, 200, consultants=20, seed=6, today=TODAY)
    t = tracker_with(IL, [*data.engagements, *data.requests, *data.activities], tmp_path)
    session = t.as_researcher("an-2")
    got = session.quantile("hours_per_week", FY, epsilon=0.4)
    assert got["value"] in [k / 4 for k in range(97)]  # one of the public candidates
    assert got["epsilon"] == pytest.approx(0.4)
    assert session.budget[FY].spent == pytest.approx(0.4)
    days = session.quantile("days_to_assignment", FY, q=0.9, epsilon=0.4)
    assert 0 <= days["value"] <= 365 and session.budget[FY].spent == pytest.approx(0.8)
    allotment = IL.dp.analyst_epsilon_per_fiscal_year
    with pytest.raises(it.BudgetExceeded):
        session.quantile("hours_per_week", FY, epsilon=allotment)
    assert session.budget[FY].spent == pytest.approx(0.8)  # a refused release costs nothing


def test_the_profiles_own_release_publishes_the_engagements_beside_the_activities() -> None:
    """All of Illinois' tables released together (activities and engagements in one linked
    release): the statewide engagements opened in a fiscal year are the ones recorded."""
    data = it.generate_engagements(IL, 300, consultants=40, seed=3, today=TODAY)
    tracker = it.Tracker.open("memory://", IL, today=lambda: TODAY)
    tracker.record_many(list(it.generate_activities(IL, 2000, consultants=40, seed=3, today=TODAY)))
    assert tracker.record_many([*data.engagements, *data.requests, *data.activities]).ok
    opened = sum(1 for e in data.engagements if IL.fiscal_year(e.opened) == FY)
    assert opened > 11
    table = tracker.as_state().tables()["engagements_by_region"]
    assert table.cell(region=None, fiscal_year=FY).values["engagements"] == opened


@pytest.mark.parametrize("name", ["illinois", "california", "montana"])
def test_engagement_counts_are_bounded_like_caseloads_not_like_activities(name: str) -> None:
    """The shipped profiles bound a consultant's engagements per release at 60 (about 20 a
    year over three years), not the default 12 cells × 20: Laplace scale 60 / 0.5 = 120, a
    95 % half-width of 120 · ln 20 ≈ 359.5 engagements."""
    profile = it.load_profile(name)
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    lab = tracker.as_researcher("an-1")
    query = it.Query(measures=["engagements"], by=["region"], where={"fiscal_year": FY})
    report = lab.preview(query, epsilon=0.5)
    assert report.half_width("engagements") == pytest.approx(359.5, abs=0.5)
