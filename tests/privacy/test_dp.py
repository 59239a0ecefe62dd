"""Differential privacy: sensitivities, OpenDP chains, an empirical privacy check with teeth,
interval coverage, and the researcher session on the memory store."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import opendp.prelude as dp
import pytest
from hypothesis import given
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker import _dp
from iecmhc_tracker._release import Release, estimate
from iecmhc_tracker._researcher import prepare
from iecmhc_tracker.stores.bounding import bound_partials

TODAY = __import__("conftest").TODAY
FY = 2026
SINGLE_CELL = it.Query(measures=["hours"], where={"fiscal_year": FY})
vec = dp.vector_domain(dp.atom_domain(T=float, nan=False))


def laplace(n: int, scale: float) -> dp.Measurement:
    """OpenDP's Laplace on n floats, on the same noise grid the library uses."""
    sized = dp.vector_domain(dp.atom_domain(T=float, nan=False), size=n)
    return dp.m.make_laplace(sized, dp.l1_distance(T=float), scale=scale, k=_dp.K)


def gaussian(n: int, scale: float) -> dp.Measurement:
    sized = dp.vector_domain(dp.atom_domain(T=float, nan=False), size=n)
    return dp.m.make_gaussian(sized, dp.l2_distance(T=float), scale=scale, k=_dp.K)


def _tracker(
    profile: it.Profile, n: int = 3000, consultants: int = 40, seed: int = 7
) -> it.Tracker:
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    acts = it.generate_activities(
        profile, n, consultants=consultants, seed=seed, today=TODAY, notes=False
    )
    assert t.record_many(acts).ok
    return t


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> it.Tracker:
    # many analysts share this data across the module: a lifetime cap that they never reach
    # (the cap itself is tested in test_dp_accounting), and 4 epsilon each per fiscal year
    profile = _profile_with(
        tmp_path_factory.mktemp("profile"),
        lifetime_epsilon_per_fiscal_year=1000.0,
        analyst_epsilon_per_fiscal_year=4.0,
    )
    return _tracker(profile)


def _spent(lab: Any) -> float:
    """The most the analyst has spent on any one fiscal year of data."""
    return max(lab.budget.spent.values())


def _profile_with(tmp_path: Path, base: str = "illinois", **dp_values: object) -> it.Profile:
    """A shipped profile with some [privacy.dp] keys replaced."""
    from importlib import resources

    text = (resources.files("iecmhc_tracker") / "profiles" / f"{base}.toml").read_text()
    head, rest = text.split("[privacy.dp]\n", 1)
    lines = rest.split("\n")
    body = [ln for ln in lines if ln.split("=", 1)[0].strip() not in dp_values]
    new = [f"{k} = {v!r}".replace("'", '"') for k, v in dp_values.items()]
    path = tmp_path / f"{base}-custom.toml"
    path.write_text(head + "[privacy.dp]\n" + "\n".join(new + body))
    return it.load_profile(path)


# -- sensitivity and stability ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mechanism", "bounding", "n", "expected"),
    [
        ("laplace", "norm", 1224, 600.0),  # the norm bound binds
        ("laplace", "norm", 5, 400.0),  # 5 cells x clip 80 is less than the norm bound
        ("gaussian", "norm", 1224, 600.0),
        ("gaussian", "norm", 4, 160.0),  # sqrt(4) x 80
        ("laplace", "max_cells", 1224, 12 * 80.0),
        ("laplace", "max_cells", 3, 3 * 80.0),
        ("gaussian", "max_cells", 1224, math.sqrt(12) * 80.0),
        ("laplace", "none", 10, 800.0),
        ("gaussian", "none", 10, math.sqrt(10) * 80.0),
    ],
)
def test_sensitivity_table(mechanism: str, bounding: str, n: int, expected: float) -> None:
    got = _dp.sensitivity(mechanism, bounding, clip=80.0, norm_bound=600.0, max_cells=12, n_cells=n)
    assert expected <= got <= expected * (1 + 1e-8)


def test_stability_map_scales_with_units() -> None:
    m = _dp.stability_map(2.5)
    assert [m(0), m(1), m(4)] == [0.0, 2.5, 10.0]
    with pytest.raises(ValueError):
        m(-1)
    t = _dp.stability(2.5, "laplace", size=2)
    assert t.map(3) == 7.5
    assert str(t.output_metric).startswith("L1Distance")
    assert str(_dp.stability(2.5, "gaussian", size=2).output_metric).startswith("L2Distance")
    assert t([1.0, 2.0]) == [1.0, 2.0]  # the data passes unchanged


partials_of_one_unit = st.lists(
    st.tuples(st.integers(0, 30), st.floats(0, 500), st.floats(0, 50)),
    min_size=1,
    max_size=40,
    unique_by=lambda t: t[0],
)


@given(
    mine=partials_of_one_unit,
    others=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30), st.floats(0, 300))),
    bounding=st.sampled_from(_dp.BOUNDINGS),
    mechanism=st.sampled_from(_dp.MECHANISMS),
    clip=st.floats(0.5, 100),
    norm_bound=st.floats(0.5, 1000),
    max_cells=st.integers(1, 12),
)
def test_one_unit_moves_bounded_totals_at_most_the_sensitivity(
    mine: list[tuple[int, float, float]],
    others: list[tuple[int, int, float]],
    bounding: str,
    mechanism: str,
    clip: float,
    norm_bound: float,
    max_cells: int,
) -> None:
    """Neighbours (with and without one unit) differ by at most the stated sensitivity, in
    the norm the mechanism needs, on every measure (reference bounding of the stores)."""
    cells = 31
    # max_cells samples at random: give other units one cell each, so that only this unit's
    # presence (not their fresh random choices) differs between the two runs
    rest = [
        (f"o{i}" if bounding == "max_cells" else f"o{u}", (c,), 1, (v, v / 10))
        for i, (u, c, v) in enumerate(others)
    ]
    me = [("me", (c,), 1, (a, b)) for c, a, b in mine]
    kw = {
        "clip": [clip, clip / 2],
        "norm": _dp.store_norm(mechanism, bounding),
        "norm_bounds": [norm_bound, norm_bound / 2],
        "max_cells": max_cells if bounding == "max_cells" else None,
    }
    with_me = dict(bound_partials(rest + me, **kw))  # type: ignore[arg-type]
    without = dict(bound_partials(rest, **kw))  # type: ignore[arg-type]
    for j, (c_j, b_j) in enumerate(((clip, norm_bound), (clip / 2, norm_bound / 2))):
        diff = [
            with_me.get((c,), (0.0, 0.0))[j] - without.get((c,), (0.0, 0.0))[j]
            for c in range(cells)
        ]
        size = sum(map(abs, diff)) if mechanism == "laplace" else math.hypot(*diff)
        sens = _dp.sensitivity(
            mechanism, bounding, clip=c_j, norm_bound=b_j, max_cells=max_cells, n_cells=cells
        )
        assert size <= sens * (1 + 1e-9) + 1e-9


# -- noise plans ----------------------------------------------------------------------------


def test_plan_budget_is_openDPs_composition() -> None:
    p = _dp.plan("laplace", 1.0, [("hours", 600.0, False), ("activities", 400.0, False)], 10)
    # rebuilt here from OpenDP's own Laplace, independently of the plan's chains
    parts = [laplace(10, m.scale) for m in p.measures]
    maps = [m.map(s) for m, s in zip(parts, (600.0, 400.0), strict=True)]
    assert p.epsilon == pytest.approx(sum(maps), rel=1e-12)
    assert p.epsilon is not None and p.epsilon <= 1.0 + 1e-12
    assert [m.scale for m in p.measures] == pytest.approx([1200.0, 800.0], rel=1e-6)

    g = _dp.plan("gaussian", 0.1, [("hours", 300.0, False)], 10, delta=1e-6)
    gau = gaussian(10, g.measures[0].scale)
    assert g.rho == pytest.approx(gau.map(300.0), rel=1e-12)
    fixed = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gau), delta=1e-6)
    assert g.approx == pytest.approx(fixed.map(300.0))


def test_plan_refuses_non_finite_totals() -> None:
    p = _dp.plan("laplace", 1.0, [("hours", 10.0, False)], 2)
    with pytest.raises(it.StorageError, match="non-finite"):
        p.run([[1.0, float("nan")]])
    with pytest.raises(it.StorageError, match="non-finite"):
        p.run([[float("inf"), 1.0]])


def test_integer_measures_get_discrete_noise() -> None:
    p = _dp.plan("laplace", 1.0, [("activities", 12.0, True)], 3)
    out = p.run([[3.0, 0.0, 7.0]])
    assert all(float(v).is_integer() for v in out[0])
    assert p.measures[0].noise == "discrete_laplace"


# -- empirical privacy check ----------------------------------------------------------------


def privacy_violation(xs: list[float], ys: list[float], epsilon: float, bins: int = 20) -> float:
    """How far (beyond sampling error) the empirical log-likelihood ratio of two output
    samples exceeds ``epsilon`` on some bin; > 0 means the ε bound is violated.

    Bins are quantiles of the pooled sample, so each holds enough mass; a bin's log ratio
    counts only by its lower 5-sigma confidence bound (binomial counts: se ~ sqrt(1/a + 1/b)).
    """
    pooled = sorted(xs + ys)
    edges = [pooled[len(pooled) * i // bins] for i in range(1, bins)]

    def hist(sample: list[float]) -> list[int]:
        import bisect

        counts = [0] * bins
        for v in sample:
            counts[bisect.bisect_right(edges, v)] += 1
        return counts

    a, b = hist(xs), hist(ys)
    worst = -math.inf
    for ca, cb in zip(a, b, strict=True):
        if ca < 50 or cb < 50:
            continue
        ratio = abs(math.log((ca / len(xs)) / (cb / len(ys))))
        se = math.sqrt(1 / ca + 1 / cb)
        worst = max(worst, ratio - 5 * se - epsilon)
    return worst


@pytest.mark.slow
def test_neighbouring_stores_satisfy_epsilon_and_the_check_has_teeth(
    illinois: it.Profile, data: it.Tracker
) -> None:
    # the heaviest consultant of the cell, removed: the neighbouring store
    partials = data.store.partial_sums("consultant", (), [("hours", ())], {"fiscal_year": [FY]})
    heaviest = max(partials, key=lambda p: p[3][0])[0]
    neighbour = it.Tracker.open("memory://", illinois, today=lambda: TODAY)
    rows = [r for r in _all_rows(data) if r["consultant"] != heaviest]
    neighbour.store.insert(rows)

    eps = 1.0
    p1 = prepare(data.scope, SINGLE_CELL, epsilon=eps)
    p2 = prepare(neighbour.scope, SINGLE_CELL, epsilon=eps)
    (v1,), (v2,) = p1.bounded(data.scope)[0], p2.bounded(neighbour.scope)[0]
    noise = p1.plan.measures[0]
    # the heaviest consultant moves the cell by the full sensitivity: the check is tight
    assert v1 - v2 == pytest.approx(noise.sensitivity, rel=1e-6)

    draws = 20_000

    def sample(chain: object, value: float) -> list[float]:
        return list(chain([value] * draws))  # type: ignore[operator]

    honest = _dp.noise_chain(noise.sensitivity, noise.scale, "laplace", size=draws)
    assert honest.map(1) == pytest.approx(eps)
    assert privacy_violation(sample(honest, v1), sample(honest, v2), eps) <= 0

    broken = _dp.noise_chain(noise.sensitivity, noise.scale / 2, "laplace", size=draws)
    assert privacy_violation(sample(broken, v1), sample(broken, v2), eps) > 0


def _all_rows(t: it.Tracker) -> list[dict[str, object]]:
    consultants = {p[0] for p in t.store.partial_sums("consultant", (), [("*", ())], {})}
    return [r for c in sorted(consultants) for r in t.store.rows(consultant=c)]


# -- interval coverage ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_intervals_cover_the_true_bounded_value(data: it.Tracker, mechanism: str) -> None:
    q = it.Query(
        measures=["hours", "activities"],
        by=["county", "consultation_type"],
        where={"fiscal_year": FY},
    )
    budget = {"epsilon": 1.0} if mechanism == "laplace" else {"rho": 0.5}
    prep = prepare(data.scope, q, **budget)  # type: ignore[arg-type]
    truth = prep.bounded(data.scope)
    inside = post_inside = total = 0
    for _ in range(8):
        raw = prep.noisy_release(prep.plan.run(truth), "k", 0)
        plain = Release.from_noisy(raw, analyst="a", level=0.95, postprocess=(), cached=False)
        post = Release.from_noisy(
            raw, analyst="a", level=0.95, postprocess=("clamp", "round"), cached=False
        )
        true_values = [v for vec in truth for v in vec]
        for e, f, v in zip(plain.estimates, post.estimates, true_values, strict=True):
            total += 1
            inside += e.ci_low <= v <= e.ci_high
            post_inside += f.ci_low <= v <= f.ci_high
    assert total > 4000
    assert 0.93 <= inside / total <= 0.97
    # post-processing widens intervals, never loses the truth
    assert post_inside >= inside


@given(
    noisy=st.floats(-1e5, 1e5),
    half=st.floats(0, 1e4),
    truth=st.floats(0, 1e5),
    integer=st.booleans(),
)
def test_postprocessing_keeps_what_the_interval_held(
    noisy: float, half: float, truth: float, integer: bool
) -> None:
    low, high = noisy - half, noisy + half
    value, lo, hi = estimate(noisy, half, integer=integer, postprocess=("clamp", "round"))
    assert value >= 0 and lo >= 0
    if low <= truth <= high:
        assert lo <= truth <= hi


# -- the researcher session -----------------------------------------------------------------


def test_release_metadata_and_frame(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-meta")
    q = it.Query(
        measures=["hours", "activities"], by=["consultation_type"], where={"fiscal_year": FY}
    )
    rel = lab.release(q, epsilon=0.5)
    frame = rel.to_pandas()
    assert list(frame.columns) == [
        "consultation_type",
        "consultation_type_label",
        *("measure", "value", "ci_low", "ci_high"),
    ]
    assert len(frame) == 2 * 3  # every public consultation type, both measures
    assert (frame["value"] >= 0).all() and (frame["ci_low"] >= 0).all()
    assert (frame["ci_low"] <= frame["value"]).all() and (frame["value"] <= frame["ci_high"]).all()
    acts = frame[frame["measure"] == "activities"]["value"]
    assert all(float(v).is_integer() for v in acts)
    meta = frame.attrs
    assert meta["mechanism"] == "laplace" and meta["unit"] == "consultant"
    assert meta["analyst"] == "analyst-meta" and meta["cached"] is False
    assert meta["postprocess"] == ["clamp", "round"] and meta["level"] == 0.95
    # the charged epsilon is OpenDP's map of the chains that made the noise: exact in the
    # ledger, shown to six significant digits in the metadata
    maps = [
        laplace(3, meta["scale"][m]).map(meta["sensitivity"][m]) for m in ("hours", "activities")
    ]
    assert _spent(lab) == pytest.approx(sum(maps), rel=1e-12)
    assert meta["epsilon"] == pytest.approx(sum(maps), rel=1e-6)
    assert rel.to_dict()["metadata"]["query"] == q.key()
    assert "ci_high" in rel._repr_html_()


def test_gaussian_release_reports_rho_and_epsilon_delta(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-gauss")
    rel = lab.release(it.Query(measures=["hours"], by=["region"]), rho=0.05)
    m = rel.metadata
    assert m["mechanism"] == "gaussian" and m["rho"] == pytest.approx(0.05)
    gau = gaussian(len(rel.estimates), m["scale"]["hours"])
    fixed = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gau), delta=1e-6)
    # shown to six significant digits
    assert m["epsilon_delta"] == pytest.approx(list(fixed.map(m["sensitivity"]["hours"])), rel=5e-6)
    # one accountant: the rho is charged in epsilon at the profile's delta, on every year read
    charged = 0.05 + 2 * math.sqrt(0.05 * math.log(1e6))
    assert m["charged_epsilon"] == pytest.approx(charged, rel=5e-6)
    assert all(v == pytest.approx(charged) for v in lab.budget.spent.values())


def test_tightening_bounds_reduces_noise_and_loosening_is_refused(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-bounds")
    q = it.Query(measures=["hours"], by=["county"], where={"fiscal_year": FY})
    wide = lab.release(q, epsilon=0.5).metadata
    tight = lab.release(q, epsilon=0.5, norm_bounds={"hours": 100}).metadata
    assert tight["scale"]["hours"] < wide["scale"]["hours"]
    assert tight["half_width"]["hours"] < wide["half_width"]["hours"]
    with pytest.raises(it.Forbidden, match="only tighten"):
        lab.release(q, epsilon=0.5, bounds={"hours": 10_000})
    one = lab.release(SINGLE_CELL, epsilon=0.5, bounds={"hours": 8}).metadata
    assert one["bounds"] == {"hours": 8.0} and one["sensitivity"]["hours"] == pytest.approx(8.0)


def test_budget_exceeded_says_what_is_left_and_charges_nothing(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-budget")
    limit = data.profile.dp.analyst_epsilon_per_fiscal_year
    lab.release(it.Query(measures=["hours"], by=["region"]), epsilon=limit - 0.25)
    with pytest.raises(it.BudgetExceeded, match=r"0\.25 epsilon left on FY\d+ data") as err:
        lab.release(it.Query(measures=["hours"], by=["county"]), epsilon=1.0)
    assert err.value.remaining == pytest.approx(0.25) and err.value.limit == "analyst"
    assert all(v == pytest.approx(0.25) for v in lab.budget.remaining.values())
    assert len(lab.history()) == 1


def test_repeated_query_is_cached_free_and_identical(
    data: it.Tracker, illinois: it.Profile
) -> None:
    lab = data.as_researcher("analyst-cache")
    q = it.Query(measures=["hours"], by=["region"], where={"fiscal_year": FY})
    first = lab.release(q, epsilon=0.3)
    spent = _spent(lab)
    again = lab.release(q, epsilon=0.3)
    assert again.metadata["cached"] is True
    assert again.estimates == first.estimates
    assert _spent(lab) == spent
    # another analyst asking the same question gets the same answer, free
    other = data.as_researcher("analyst-other").release(q, epsilon=0.3)
    assert other.estimates == first.estimates
    assert _spent(data.as_researcher("analyst-other")) == 0
    # another level is derived from the same draw: same values, wider intervals, free
    wider = lab.release(q, epsilon=0.3, level=0.99)
    assert [e.value for e in wider.estimates] == [e.value for e in first.estimates]
    assert wider.metadata["half_width"]["hours"] > first.metadata["half_width"]["hours"]
    log = lab.history()
    assert [e["amount"] for e in log] == [pytest.approx(0.3), 0.0, 0.0]
    assert [e["entry"]["cached"] for e in log] == [False, True, True]


def test_new_data_invalidates_the_cache(illinois: it.Profile) -> None:
    t = _tracker(illinois, n=400, consultants=10)
    lab = t.as_researcher("a")
    q = it.Query(measures=["activities"], by=["region"])
    lab.release(q, epsilon=0.2)
    t.record_many(it.generate_activities(illinois, 5, consultants=3, seed=99, today=TODAY))
    fresh = lab.release(q, epsilon=0.2)
    assert fresh.metadata["cached"] is False
    assert _spent(lab) == pytest.approx(0.4)


def test_id_like_queries_are_forbidden(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-ids")
    for q in (
        it.Query(measures=["hours"], by=["consultant"]),
        it.Query(measures=["hours"], where={"program": "p-0001-1"}),
        it.Query(measures=["hours"], by=["date"]),
    ):
        with pytest.raises(it.Forbidden):
            lab.release(q, epsilon=0.1)
    assert _spent(lab) == 0


def test_session_exposes_no_rows(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-rows")
    public = {n for n in dir(lab) if not n.startswith("_")}
    # preview and epsilon_for read no data: they report what a release would cost; quantile
    # is a DP release of one number
    assert public == {
        "analyst",
        "budget",
        "epsilon_for",
        "history",
        "preview",
        "quantile",
        "release",
    }


def test_max_cells_bounding(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-mc")
    q = it.Query(measures=["activities"], by=["county"], where={"fiscal_year": FY})
    m = lab.release(q, epsilon=0.5, bounding="max_cells").metadata
    assert m["bounding"] == "max_cells" and m["noise"]["activities"] == "discrete_laplace"
    clip = data.profile.dp.bounds["activities"]
    assert m["sensitivity"]["activities"] == pytest.approx(12 * clip)


def test_program_as_privacy_unit(tmp_path: Path) -> None:
    profile = _profile_with(
        tmp_path, "california", unit="program", analyst_epsilon_per_fiscal_year=1.5
    )
    t = _tracker(profile, n=800, consultants=12)
    lab = t.as_researcher("a")
    rel = lab.release(it.Query(measures=["hours"], by=["setting"]), epsilon=0.5)
    assert rel.metadata["unit"] == "program"
    assert {y.allotment for y in lab.budget.years} == {1.5}
    assert all(v == pytest.approx(1.0) for v in lab.budget.remaining.values())
    # the program's bounded totals: rows without a program (helpline calls) are left out
    calls = it.Query(measures=["activities"], where={"kind": "helpline_call"})
    prep = prepare(t.scope, calls, epsilon=1)
    assert prep.bounded(t.scope) == [[0.0]]


def test_the_budget_shows_every_fiscal_year_of_data(tmp_path: Path) -> None:
    t = it.Tracker.open("memory://", it.load_profile("illinois"), today=lambda: TODAY)
    b = t.as_researcher("x").budget
    assert [y.fiscal_year for y in b.years] == list(range(2020, 2028))
    assert b[2027].remaining == 2.0 and b[2027].lifetime_remaining == 4.0
    assert "FY2027: 0 spent of 2 (2 left; 4 of the lifetime cap 4 left)" in str(b)


def test_bad_requests_are_explained(data: it.Tracker) -> None:
    lab = data.as_researcher("analyst-bad")
    q = it.Query(measures=["hours"])
    with pytest.raises(ValueError, match="not both"):
        lab.release(q, epsilon=1.0, rho=0.1)
    with pytest.raises(ValueError, match="positive finite"):
        lab.release(q, epsilon=float("nan"))
    with pytest.raises(ValueError, match="post-processing"):
        lab.release(q, epsilon=0.1, postprocess=("smooth",))
    with pytest.raises(it.ValidationError):
        lab.release(it.Query(measures=["hours"], by=["planet"]), epsilon=0.1)
    assert _spent(lab) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": float("nan")}, "epsilon"),
        ({"epsilon": 1e-320}, "epsilon"),
        ({"rho": 1e-320}, "rho"),
        ({"epsilon": 1.0, "rho": 0.5}, "rho"),
        ({"level": 2}, "level"),
        ({"bounding": "bogus"}, "bounding"),
        ({"postprocess": "smooth"}, "postprocess"),
        ({"bounds": {"hours": 0}}, "bounds"),
        ({"norm_bounds": {"visits": 1}}, "norm_bounds"),
    ],
)
def test_bad_request_arguments_are_validation_errors_naming_the_field(
    memory_tracker: it.Tracker, kwargs: dict[str, Any], field: str
) -> None:
    lab = memory_tracker.as_researcher("an-1")
    q = it.Query(measures=["hours"], by=["region"], where={"fiscal_year": FY})
    with pytest.raises(it.ValidationError) as info:
        lab.release(q, **kwargs)
    assert isinstance(info.value, it.TrackerError)
    assert [p.field for p in info.value.problems] == [field]
    assert _spent(lab) == 0.0 and lab.history() == []
