"""State tables: primary and complementary suppression, the LP auditor, the state view.

The auditor is tested on its own first (hand-made tables with known answers), then used as the
judge of the suppression on random synthetic stores and on adversarial ones, beside an
independent brute-force check of margin subtraction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import pickle
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker._audit import audit_tables, lattice_equations
from iecmhc_tracker._cache import data_digest
from iecmhc_tracker._profile import SuppressionPolicy, TableSpec
from iecmhc_tracker._suppress import release_tables
from iecmhc_tracker._table import Table, TableCell
from strategies import activities

TODAY = dt.date(2026, 11, 1)
FY = 2026  # a fiscal year of the Illinois profile (Jul 2025 – Jun 2026)
COUNTY_TABLE = TableSpec(
    name="hours_by_county",
    title="Hours of consultation by county and type",
    measures=("hours", "activities"),
    by=("county", "consultation_type"),
    where={"kind": ("consultation",), "fiscal_year": (FY,)},
)


def consultation(
    consultant: str, county: str, *, hours: float = 1.0, ctype: str = "classroom", day: int = 0
) -> it.Activity:
    return it.Activity(
        id=uuid.uuid4(),
        consultant=consultant,
        program=f"p-{consultant}",
        date=dt.date(2025, 9, 1) + dt.timedelta(days=day % 200),
        county=county,
        kind="consultation",
        setting="child_care",
        consultation_type=ctype,
        hours=Decimal(str(hours)),
    )


def tracker_with(profile: it.Profile, acts: list[it.Activity], url: str = "memory://") -> Any:
    tracker = it.Tracker.open(url, profile, today=lambda: TODAY)
    result = tracker.record_many(acts)
    assert result.ok, result.rejected[:3]
    return tracker


def families(tables: dict[str, Table]) -> list[list[Table]]:
    groups: dict[str, list[Table]] = {}
    for t in tables.values():
        groups.setdefault(repr(sorted(t.where.items())), []).append(t)
    return list(groups.values())


def assert_protected(source: Any, tables: dict[str, Table]) -> int:
    """The tables of one release pass the steward's LP audit together (every table, whatever
    its filters, linked through the activities they count); returns the withheld cells."""
    report = it.audit_suppression(source, *tables.values())
    assert report.ok, str(report)
    assert not report.exact
    return sum(t.counts()["withheld"] for t in tables.values())


def release(
    tracker: it.Tracker, profile: it.Profile, specs: list[TableSpec], years: Any = None
) -> dict[str, Table]:
    """The tables released from the tracker's data, named by its digest (so they can be
    audited)."""
    store = tracker.store
    return release_tables(
        store,
        profile,
        specs,
        years=profile.fiscal_years(TODAY) if years is None else years,
        data_version=data_digest(store.url, store.data_version()),
    )


def subtraction_leaks(table: Table) -> list[tuple[Any, ...]]:
    """Independent of the LP: withheld cells that are the only withheld cell of some
    total = sum-of-parts relation, so plain subtraction gives them away."""
    coords = [c.coords for c in table.all_cells]
    withheld = {c.coords for c in table.all_cells if c.withheld}
    leaks = []
    for parent, children in lattice_equations(coords):
        line = [coords[parent], *(coords[ch] for ch in children)]
        hidden = [c for c in line if c in withheld]
        if len(hidden) == 1:
            leaks.append(hidden[0])
    return leaks


# -- the auditor on hand-made tables --------------------------------------------------------------


def hand_table(
    values: dict[tuple[Any, ...], float], withheld: set[tuple[Any, ...]]
) -> tuple[Table, dict[Any, Any]]:
    """A 2 × 2 table (rows a, b; columns x, y) with margins, as the pipeline would render it,
    and the true values of its withheld cells (as the steward knows them)."""
    cells, margins, truth = [], [], {}
    for coords, v in values.items():
        hidden = coords in withheld
        cell = TableCell(
            coords,
            tuple(str(c) for c in coords),
            {"hours": None if hidden else v},
            "withheld" if hidden else None,
        )
        (margins if None in coords else cells).append(cell)
        if hidden:
            truth[("hand", coords)] = {"hours": v}
    table = Table(
        name="hand",
        title="hand-made",
        profile="illinois",
        profile_label="Illinois",
        measures=("hours",),
        dims=("row", "col"),
        where={},
        policy=SuppressionPolicy(min_consultants=3, min_count=11, dominance=0.8, protection=0.2),
        generated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        fiscal_years=(),
        cells=tuple(cells),
        margins=tuple(margins),
    )
    return table, truth


def audit(made: tuple[Table, dict[Any, Any]]) -> Any:
    return audit_tables([made[0]], made[1])


def grid(a: tuple[float, float], b: tuple[float, float]) -> dict[tuple[Any, ...], float]:
    v = {("a", "x"): a[0], ("a", "y"): a[1], ("b", "x"): b[0], ("b", "y"): b[1]}
    v[("a", None)], v[("b", None)] = sum(a), sum(b)
    v[(None, "x")], v[(None, "y")] = a[0] + b[0], a[1] + b[1]
    v[(None, None)] = sum(a) + sum(b)
    return v


def test_auditor_finds_a_single_withheld_cell_recovered_by_its_margin() -> None:
    report = audit(hand_table(grid((5, 100), (100, 100)), {("a", "x")}))
    assert not report.ok
    (cell,) = report.failures
    assert (cell.low, cell.high) == pytest.approx((5, 5))
    assert cell.exact


def test_auditor_computes_the_feasible_interval_of_a_rectangle() -> None:
    # a x=5, a y=50, b x=40, b y=100 withheld as a rectangle: a x can be anything in [0, 45]
    hidden = {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    report = audit(hand_table(grid((5, 50), (40, 100)), hidden))
    ax = next(c for c in report.cells if c.coords == ("a", "x"))
    assert (ax.low, ax.high) == pytest.approx((0, 45))
    assert (ax.required_low, ax.required_high) == pytest.approx((0, 16))
    # with a x = t: a y = 55 - t ∈ [10, 55] (asked 50 ± 20: up to 60), b x = 45 - t ∈ [0, 45]
    # (asked up to 52), b y = 95 + t ∈ [95, 140] (asked down to 80): all three under-protected
    got = {c.coords: (c.low, c.high) for c in report.failures}
    assert set(got) == {("a", "y"), ("b", "x"), ("b", "y")}
    assert got[("b", "y")] == pytest.approx((95, 140))
    assert got[("a", "y")] == pytest.approx((10, 55))


def test_auditor_flags_a_rectangle_too_tight_for_the_protection_interval() -> None:
    # b y = a x - 3 must stay >= 0, so a x ∈ [3, 45]: it cannot reach 0, as 5 - 11 < 0 asks
    hidden = {("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")}
    report = audit(hand_table(grid((5, 50), (40, 2)), hidden))
    assert not report.ok
    ax = next(c for c in report.failures if c.coords == ("a", "x"))
    assert (ax.low, ax.high) == pytest.approx((3, 45))


def test_a_table_holds_no_true_value_anywhere(county_profile: it.Profile) -> None:
    acts = crowd(["cook", "dupage", "lake", "will"])
    acts += [consultation(f"m-{k % 3}", "adams", hours=1.75, day=k) for k in range(6)]
    tracker = tracker_with(county_profile, acts)
    table = tracker.as_state().table("hours_by_county")
    assert table.cell("adams", "classroom").withheld
    # 6 × 1.75 h = 10.5 h: nothing reachable from the table holds it (or the 6 records)
    reachable = [
        json.dumps(attrs.asdict(table), default=str),
        json.dumps(table.to_dict(), default=str),
        repr(table),
        repr([getattr(table, s) for s in type(table).__slots__ if hasattr(table, s)]),
        pickle.dumps(table).hex(),
    ]
    assert not any("10.5" in r for r in reachable)
    assert not hasattr(table, "__dict__")
    again = pickle.loads(pickle.dumps(table))
    assert again == table
    # the steward audits against the store, on the data the table was released from
    assert it.audit_suppression(tracker, table).ok
    tracker.record(consultation("late", "cook", day=20))
    with pytest.raises(it.TrackerError, match="release time"):
        it.audit_suppression(tracker, table)


# -- primary suppression -------------------------------------------------------------------


@pytest.fixture(scope="module")
def county_profile() -> it.Profile:
    return attrs.evolve(it.load_profile("illinois"), tables=(COUNTY_TABLE,))


def crowd(counties: list[str], per: int = 3, each: int = 5) -> list[it.Activity]:
    """Ordinary activity: ``per`` consultants in each county, ``each`` activities of each type."""
    acts = []
    for county in counties:
        for k in range(per):
            for ctype in ("programmatic", "classroom", "child_family"):
                acts += [
                    consultation(f"{county}-{k}", county, ctype=ctype, day=d) for d in range(each)
                ]
    return acts


def test_primary_dominance_and_zero_cells(county_profile: it.Profile) -> None:
    acts = crowd(["cook", "dupage", "lake", "will", "kane"])
    # few records: 3 consultants, 6 records
    acts += [consultation(f"m-{k % 3}", "adams", ctype="classroom", day=k) for k in range(6)]
    # dominance: 3 consultants, 30 records, one with 95 % of the hours
    acts += [consultation("big", "bond", hours=20, ctype="classroom", day=d) for d in range(20)]
    acts += [
        consultation(f"small-{k}", "bond", hours=0.5, ctype="classroom", day=d)
        for k in range(2)
        for d in range(5)
    ]
    tracker = tracker_with(county_profile, acts)
    table = release(tracker, county_profile, [COUNTY_TABLE])["hours_by_county"]
    # too few records, and one dominant consultant: both withheld, flagged alike
    assert table.cell("adams", "classroom").reason == "withheld"
    assert table.cell("bond", "classroom").reason == "withheld"
    empty = table.cell("alexander", "classroom")
    assert empty.reason is None and empty.values == {"hours": 0.0, "activities": 0.0}
    shown = [c for c in table.cells if c.coords[0] in ("cook", "dupage", "lake") and not c.withheld]
    assert shown and all(c.values["activities"] == 15 for c in shown)
    assert assert_protected(tracker, {"t": table}) > 0
    assert subtraction_leaks(table) == []


def test_a_lone_consultant_in_a_county_can_never_be_read(county_profile: it.Profile) -> None:
    acts = crowd(["cook", "dupage", "lake", "will"])
    lone = [
        consultation("lone", "pope", hours=3, ctype=t, day=d)
        for t in ("classroom", "child_family")
        for d in range(30)
    ]
    tracker = tracker_with(county_profile, acts + lone)
    table = release(tracker, county_profile, [COUNTY_TABLE])["hours_by_county"]
    pope = [c for c in table.all_cells if c.coords[0] == "pope"]
    assert pope and all(c.withheld for c in pope if c.values != {"hours": 0.0, "activities": 0.0})
    assert table.cell("pope", None).withheld
    assert subtraction_leaks(table) == []
    report = it.audit_suppression(tracker, table)
    assert report.ok, str(report)
    total = next(c for c in report.cells if c.coords == ("pope", None) and c.measure == "hours")
    # the lone consultant's 180 hours cannot be pinned within ± 20 %
    assert total.low <= 144 and total.high >= 216


# -- complementary suppression on random and adversarial stores -----------------------------


@st.composite
def synthetic_stores(draw: st.DrawFn, name: str) -> tuple[it.Profile, list[it.Activity]]:
    profile = it.load_profile(name)
    n = draw(st.integers(20, 700))
    consultants = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 10_000))
    return profile, list(
        it.generate_activities(profile, n, consultants=consultants, seed=seed, today=TODAY)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["illinois", "california", "montana"])
@settings(max_examples=10)
@given(data=st.data())
def test_no_withheld_cell_is_recoverable_from_any_published_table(
    name: str, data: st.DataObject
) -> None:
    profile, acts = data.draw(synthetic_stores(name))
    tracker = tracker_with(profile, acts)
    tables = tracker.as_state().tables()
    complementary = assert_protected(tracker, tables)
    for t in tables.values():
        assert subtraction_leaks(t) == []
    cells = sum(t.counts()["cells"] for t in tables.values())
    event(f"complementary share {10 * (complementary * 10 // max(cells, 1))}%+")


@pytest.mark.slow
@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["cook", "pope", "adams", "lake"]),
            st.sampled_from(["programmatic", "classroom", "child_family"]),
            st.integers(0, 5),  # consultant
            st.integers(1, 40),  # quarter hours
        ),
        min_size=1,
        max_size=120,
    )
)
def test_adversarial_small_stores_are_protected(
    county_profile: it.Profile, rows: list[tuple[str, str, int, int]]
) -> None:
    acts = [
        consultation(f"c{k}", county, hours=q / 4, ctype=ctype, day=i)
        for i, (county, ctype, k, q) in enumerate(rows)
    ]
    tracker = tracker_with(county_profile, acts)
    table = release(tracker, county_profile, [COUNTY_TABLE])["hours_by_county"]
    assert_protected(tracker, {"t": table})
    assert subtraction_leaks(table) == []
    # a county where one consultant did everything is withheld wherever it has activity
    by_county: dict[str, set[int]] = {}
    for county, _t, k, _q in rows:
        by_county.setdefault(county, set()).add(k)
    for county, ks in by_county.items():
        if len(ks) == 1:
            assert table.cell(county, None).withheld


def test_a_three_dimensional_table_with_all_margins_is_protected() -> None:
    base = it.load_profile("illinois")
    small = attrs.evolve(base, counties=base.counties[:8])
    spec = TableSpec(
        name="cube",
        title="county × type × year",
        measures=("hours", "activities"),
        by=("county", "consultation_type", "fiscal_year"),
        where={"kind": ("consultation",)},
    )
    acts = list(
        it.generate_activities(small, 1500, consultants=25, seed=5, today=TODAY, fiscal_years=3)
    )
    years = list(small.fiscal_years(TODAY))[-3:]
    tracker = tracker_with(small, acts)
    table = release(tracker, small, [spec], years)["cube"]
    assert len(table.cells) == 8 * 3 * 3
    # margins within each fiscal year only: no total adds years together
    assert len(table.all_cells) == 9 * 4 * 3
    assert table.counts()["withheld"] > 0
    assert_protected(tracker, {"cube": table})
    assert subtraction_leaks(table) == []


def test_shared_margins_are_withheld_alike_in_every_table() -> None:
    profile = it.load_profile("illinois")
    acts = list(it.generate_activities(profile, 400, consultants=6, seed=11, today=TODAY))
    tracker = tracker_with(profile, acts)
    tables = tracker.as_state().tables()
    linked = [tables[n] for n in ("hours_by_type", "hours_by_setting", "hours_by_region")]
    for year in linked[0].fiscal_years:
        seen = {(t.value("hours", None, year), t.cell(None, year).reason) for t in linked}
        assert len(seen) == 1
    # no published total adds fiscal years together (each year stands alone)
    for t in linked:
        fy = t.dims.index("fiscal_year")
        assert all(c.coords[fy] is not None for c in t.all_cells)
    assert it.audit_suppression(tracker, *tables.values()).ok


def test_every_backend_releases_the_same_tables(store_url: str) -> None:
    profile = it.load_profile("illinois")
    acts = list(it.generate_activities(profile, 600, consultants=12, seed=4, today=TODAY))
    mem = tracker_with(profile, acts).as_state().tables()
    tracker = tracker_with(profile, acts, store_url)
    other = tracker.as_state().tables()
    for name, t in mem.items():
        if t.mode == "dp":  # noise is drawn anew on each store
            assert (
                other[name].to_dict()["metadata"]["to_date"] == t.to_dict()["metadata"]["to_date"]
            )
            continue
        assert other[name].to_records() == t.to_records()
    assert_protected(tracker, other)


# -- the state view -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def state_and_acts() -> tuple[it.StateView, list[it.Activity]]:
    profile = it.load_profile("illinois")
    acts = list(it.generate_activities(profile, 800, consultants=15, seed=2, today=TODAY))
    return tracker_with(profile, acts).as_state(), acts


def test_state_view_has_no_path_to_rows(
    state_and_acts: tuple[it.StateView, list[it.Activity]],
) -> None:
    state, acts = state_and_acts
    public = {n for n in dir(state) if not n.startswith("_")}
    assert public == {
        "dashboard_data",
        "dashboard_html",
        "engagement_quantiles",  # medians only where a cell passes the suppression rules
        "profile_label",
        "published",
        "table",
        "tables",
    }
    text = json.dumps([t.to_dict() for t in state.tables().values()], default=str)
    text += json.dumps(state.dashboard_data(FY), default=str)
    text += "".join(t._repr_html_() for t in state.tables().values())
    text += "".join(t.to_pandas().to_csv() for t in state.tables().values())
    for a in acts:
        assert a.consultant not in text
        assert a.program is None or a.program not in text
        assert str(a.id) not in text


@pytest.mark.parametrize("field", ["consultant", "program", "id", "note"])
def test_state_queries_on_id_fields_are_forbidden(
    state_and_acts: tuple[it.StateView, list[it.Activity]], field: str
) -> None:
    state, _ = state_and_acts
    with pytest.raises(it.Forbidden):
        state.table(it.Query(measures=["hours"], by=[field]))
    with pytest.raises(it.Forbidden):
        state.table(
            it.Query(
                measures=["hours"],
                by=["region", "fiscal_year"],
                where={field: "x", "kind": "consultation"},
            )
        )


def test_only_published_tables_can_be_asked_for(
    state_and_acts: tuple[it.StateView, list[it.Activity]],
) -> None:
    state, _ = state_and_acts
    # Illinois publishes hours by county and consultation type (consultations: the kind that
    # records a type), so the SPEC's example is one of its tables
    county = state.table(
        it.Query(measures=["hours"], by=["county", "consultation_type"], where={"fiscal_year": FY})
    )
    assert county.name == "hours_by_county" and county.dims == ("county", "consultation_type")
    for q in (
        it.Query(measures=["hours"], by=["region", "fiscal_year"]),  # the where differs
        it.Query(
            measures=["hours"],
            by=["region", "fiscal_year"],
            where={"kind": "consultation", "setting": "preschool"},
        ),
        it.Query(
            measures=["children_benefiting"],
            by=["region", "fiscal_year"],
            where={"kind": "consultation"},
        ),
    ):
        with pytest.raises(it.Forbidden, match="publishes"):
            state.table(q)
    with pytest.raises(it.Forbidden):
        state.table("hours_by_zip_code")


def test_a_query_matching_a_published_table_returns_it(
    state_and_acts: tuple[it.StateView, list[it.Activity]],
) -> None:
    state, _ = state_and_acts
    full = state.table("hours_by_region")
    same = state.table(
        it.Query(
            measures=["activities", "hours"],
            by=["fiscal_year", "region"],
            where={"kind": ["consultation"]},
        )
    )
    assert same.to_records() == full.to_records()
    hours = state.table(
        it.Query(
            measures=["hours"], by=["region"], where={"kind": "consultation", "fiscal_year": FY}
        )
    )
    assert hours.dims == ("region",) and hours.measures == ("hours",)
    for cell in hours.all_cells:
        assert cell.values["hours"] == full.value("hours", cell.coords[0], FY)
        assert cell.reason == full.cell(cell.coords[0], FY).reason
    assert (
        state.table("hours_by_region", fiscal_year=FY).to_records()
        == full.select(fiscal_year=FY).to_records()
    )
    with pytest.raises(it.ValidationError, match="fiscal_year"):
        state.table("hours_by_region", fiscal_year=1999)


def test_table_outputs_hide_withheld_values_everywhere() -> None:
    profile = it.load_profile("illinois")
    acts = list(it.generate_activities(profile, 300, consultants=5, seed=8, today=TODAY))
    tables = tracker_with(profile, acts).as_state().tables()
    table = next(t for t in tables.values() if t.counts()["withheld"])
    withheld = [c for c in table.all_cells if c.withheld]
    records = table.to_records()
    df = table.to_pandas()
    for rec, cell in zip(records, table.all_cells, strict=True):
        for m in table.measures:
            assert (rec[m] is None) == cell.withheld
            assert rec[f"{m}_flag"] == cell.reason
    assert int(df[table.measures[0]].isna().sum()) == len(withheld)
    assert df.attrs["table"] == table.name and df.attrs["policy"]["min_count"] == 11
    assert json.loads(json.dumps(table.to_dict()))["metadata"]["dimensions"] == list(table.dims)
    assert "_truth" not in repr(table) and "truth" not in json.dumps(table.to_dict())
    hostile = attrs.evolve(table, title="<script>alert(1)</script>")
    assert "<script>" not in hostile._repr_html_()


# -- role views ------------------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=30)
@given(st.lists(activities(it.load_profile("illinois")), min_size=1, max_size=25), st.data())
def test_a_consultant_view_never_holds_another_consultants_row(
    acts: list[it.Activity], data: st.DataObject
) -> None:
    profile = it.load_profile("illinois")
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    tracker.record_many(acts)
    me = data.draw(st.sampled_from(sorted({a.consultant for a in acts})))
    view = tracker.as_consultant(me)
    mine = view.activities()
    assert {a.consultant for a in mine} == {me}
    assert Counter(a.id for a in mine) == Counter(a.id for a in acts if a.consultant == me)
    assert view.summary()["activities"] == len(mine)
    others = {a.consultant for a in acts} - {me}
    assert not any(o in json.dumps(view.summary(), default=str) for o in others if len(o) > 3)


def test_a_program_view_lists_only_its_contacts() -> None:
    profile = it.load_profile("illinois")
    acts = list(it.generate_activities(profile, 200, consultants=4, seed=3, today=TODAY))
    tracker = tracker_with(profile, acts)
    program = next(a.program for a in acts if a.program)
    contacts = tracker.as_program(program).contacts()
    expected = [a for a in acts if a.program == program]
    assert len(contacts) == len(expected)
    assert {c["consultant"] for c in contacts} == {a.consultant for a in expected}
    assert all("note" not in c for c in contacts)


def test_suppression_interpretation_of_margins_is_the_full_lattice() -> None:
    # each fiscal year's slice publishes its row, column and grand totals: (r+1)(c+1) cells
    # per year; no total adds fiscal years together
    profile = it.load_profile("montana")
    acts = list(it.generate_activities(profile, 300, consultants=10, seed=1, today=TODAY))
    tables = tracker_with(profile, acts).as_state().tables()
    for t in tables.values():
        sizes = [len({c.coords[d] for c in t.cells}) for d in range(len(t.dims))]
        expected = 1
        for d, s in zip(t.dims, sizes, strict=True):
            expected *= s if d == "fiscal_year" else s + 1
        assert len(t.all_cells) == expected
        assert len(t.cells) == len(list(itertools.product(*[range(s) for s in sizes])))


def test_a_year_that_has_just_begun_changes_nothing_in_earlier_years() -> None:
    profile = it.load_profile("illinois")
    settled = list(it.generate_activities(profile, 1500, consultants=30, seed=4, today=TODAY))
    settled = [a for a in settled if profile.fiscal_year(a.date) < profile.fiscal_year(TODAY)]
    # one consultant's first, tiny entries of the new fiscal year
    new_year = [
        consultation("c-new", "cook", hours=0.5, day=d).evolve(date=dt.date(2026, 7, 8))
        for d in range(2)
    ]
    before = tracker_with(profile, settled).as_state().tables()
    after = tracker_with(profile, settled + new_year).as_state().tables()
    for name, table in before.items():
        if "fiscal_year" not in table.dims or table.mode == "dp":  # noise is drawn anew
            continue
        for year in table.fiscal_years:
            if year >= profile.fiscal_year(TODAY):
                continue
            old = table.select(fiscal_year=year)
            new = after[name].select(fiscal_year=year)
            assert [(c.coords, c.reason, c.values) for c in old.all_cells] == [
                (c.coords, c.reason, c.values) for c in new.all_cells
            ], (name, year)


def test_boxes_never_use_a_total_across_fiscal_years() -> None:
    # this store once got a complementary box through the (absent) all-years total: the
    # box's witness moved the cell further than the published numbers allow
    profile = it.load_profile("montana")
    acts = list(it.generate_activities(profile, 565, consultants=39, seed=2407, today=TODAY))
    tracker = tracker_with(profile, acts)
    assert_protected(tracker, tracker.as_state().tables())
