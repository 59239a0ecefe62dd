"""Accuracy before spending, bounds chosen from the data under DP, and feasible keys only."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import uuid
from pathlib import Path

import attrs
import pytest

import iecmhc_tracker as it

TODAY = __import__("conftest").TODAY
FY = 2025
BY_REGION = it.Query(measures=["hours"], by=["region"], where={"fiscal_year": FY})


def _roomy_profile() -> it.Profile:
    """Illinois with a lifetime cap many analysts never reach (the cap is tested elsewhere)."""
    from importlib import resources

    text = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text()
    text = text.replace(
        "lifetime_epsilon_per_fiscal_year = 4.0", "lifetime_epsilon_per_fiscal_year = 1e6"
    )
    path = Path(tempfile.mkdtemp()) / "illinois-roomy.toml"
    path.write_text(text)
    return it.load_profile(path)


def heavy_tracker(consultants: int = 600, seed: int = 3) -> it.Tracker:
    """Each consultant puts about 250 h into one county in one fiscal year."""
    profile = _roomy_profile()
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    base = next(
        a
        for a in it.generate_activities(profile, 50, consultants=1, seed=1, today=TODAY)
        if a.kind == "consultation"
    )
    rng = random.Random(seed)
    counties = [c.code for c in profile.counties][:40]
    acts = []
    for c in range(consultants):
        county = rng.choice(counties)
        per = 250 * rng.uniform(0.85, 1.15) / 25
        for i in range(25):
            acts.append(
                attrs.evolve(
                    base,
                    id=uuid.UUID(int=rng.getrandbits(128)),
                    consultant=f"c-{c:04d}",
                    program=f"p-{c:04d}-0",
                    county=county,
                    date=dt.date(2025, 1, 1) + dt.timedelta(days=i * 5),
                    hours=round(per * 4) / 4,
                    note=None,
                )
            )
    assert t.record_many(acts).ok
    return t


@pytest.fixture(scope="module")
def heavy() -> it.Tracker:
    return heavy_tracker()


def _truth(t: it.Tracker) -> dict[str, float]:
    out: dict[str, float] = {}
    for _u, cell, _n, sums in t.store.partial_sums(
        "consultant", ("region",), [("hours", ())], {"fiscal_year": [FY]}
    ):
        out[cell[0]] = out.get(cell[0], 0.0) + sums[0]
    return out


def _coverage(t: it.Tracker, runs: int, **kwargs: object) -> float:
    """The share of cells whose interval holds the true (unbounded) total."""
    truth = _truth(t)
    hit = total = 0
    for r in range(runs):
        # a new analyst and a new query key each time: a fresh draw, not the cached one
        q = it.Query(measures=["hours"], by=["region"], where={"fiscal_year": FY})
        lab = t.as_researcher(f"cov-{sorted(kwargs)}-{r}")
        rel = lab.release(q, epsilon=1.0 + r * 1e-6, postprocess=None, **kwargs)  # type: ignore[arg-type]
        for e in rel.estimates:
            total += 1
            hit += e.ci_low <= truth.get(e.cell[0], 0.0) <= e.ci_high
    return hit / total


def test_auto_bounds_cover_the_truth_where_fixed_bounds_do_not() -> None:
    # 200 releases of 11 regions: the coverage's sampling error is about half a point, and
    # four such stores measured 93.8-95.2 % (the noise alone misses 5 %), so the 90 % bar is
    # some eight standard errors below what auto bounds give
    t = heavy_tracker()
    fixed = _coverage(t, 30)
    auto = _coverage(t, 200, bounds="auto")
    assert fixed < 0.5, fixed
    assert auto >= 0.9, auto


def test_auto_release_reports_its_bounds_and_clipped_share(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("auto-meta")
    rel = lab.release(BY_REGION, epsilon=1.0, bounds="auto")
    meta = rel.metadata
    assert meta["bounds_chosen"] == "auto"
    assert meta["bounds"]["hours"] > 80  # above the profile's clip: chosen from the data
    assert 0.0 <= meta["clipped_share"]["hours"] <= 1.0
    assert rel.to_pandas().attrs["clipped_share"] == meta["clipped_share"]
    assert lab.budget[FY].spent == pytest.approx(1.0, abs=1e-6)


def test_preview_matches_the_release_and_spends_nothing(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("previewer")
    before = (lab.budget, len(lab.history()), heavy.store.spent(None, f"FY{FY}"))
    report = lab.preview(BY_REGION, epsilon=0.5, level=0.9)
    assert (lab.budget, len(lab.history()), heavy.store.spent(None, f"FY{FY}")) == before
    assert report.accounts[0].fiscal_year == FY and report.fits
    rel = lab.release(BY_REGION, epsilon=0.5, level=0.9)
    assert report.half_width("hours") == rel.metadata["half_width"]["hours"]
    assert report.charge == rel.metadata["charged_epsilon"]
    assert "nothing read or spent" in str(report)


def test_epsilon_for_gives_the_asked_half_width(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("planner")
    eps = lab.epsilon_for(BY_REGION, measure="hours", half_width=1000.0)
    assert lab.preview(BY_REGION, epsilon=eps).half_width("hours") <= 1000.0
    assert lab.preview(BY_REGION, epsilon=eps * 0.99).half_width("hours") > 1000.0
    with pytest.raises(it.ValidationError) as exc:
        lab.epsilon_for(BY_REGION, measure="hours", half_width=-1)
    assert exc.value.problems[0].field == "half_width"


def test_bad_bounds_name_the_field(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("bad")
    with pytest.raises(it.ValidationError) as exc:
        lab.preview(BY_REGION, bounds="automatic")
    assert exc.value.problems[0].field == "bounds"
    with pytest.raises(it.ValidationError) as exc:
        lab.release(BY_REGION, bounds="auto", norm_bounds={"hours": 10})
    assert exc.value.problems[0].field == "norm_bounds"


def test_only_feasible_cells_are_keys(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("keys")
    profile = heavy.profile
    q = it.Query(measures=["hours"], by=["county", "region"], where={"fiscal_year": FY})
    rel = lab.release(q, epsilon=0.5)
    assert len(rel) == len(profile.counties)
    assert all(profile.region_of(e.cell[0]) == e.cell[1] for e in rel.estimates)
    one = sorted(profile.code_set("region"))[1]
    q = it.Query(measures=["hours"], by=["county"], where={"fiscal_year": FY, "region": one})
    cells = {e.cell[0] for e in lab.release(q, epsilon=0.5).estimates}
    assert cells == {c.code for c in profile.counties if c.region == one}
    q = it.Query(measures=["hours"], by=["fiscal_year"], where={"fiscal_year": [2010, FY]})
    assert {e.cell for e in lab.release(q, epsilon=0.5).estimates} == {(FY,)}


def test_coverage_figures_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    t = heavy_tracker(seed=5)
    fixed, auto = _coverage(t, 20), _coverage(t, 20, bounds="auto")
    print(f"coverage fixed {fixed:.3f} auto {auto:.3f}")
    # another store: the fixed bounds fail it as badly; auto's figure is printed (the bar is
    # asserted above, on enough releases to be a fair test)
    assert fixed < 0.5 and auto > fixed


def _six_digits(x: float) -> float:
    return float(f"{x:.6g}")


def test_budgets_are_shown_rounded_and_kept_exact_in_the_ledger(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("rounding")
    rel = lab.release(BY_REGION, epsilon=1.0)
    exact = lab.history()[-1]["amount"]
    # OpenDP's map of a release asked at ε = 1 sits a hair below it (the noise grid's slack)
    assert exact == pytest.approx(1.0, rel=1e-6) and exact <= 1.0
    meta, attrs_ = rel.metadata, rel.to_pandas().attrs
    assert meta["epsilon"] == meta["charged_epsilon"] == _six_digits(exact) == 1.0
    assert attrs_["epsilon"] == attrs_["charged_epsilon"] == 1.0
    assert lab.budget[FY].spent == exact  # the ledger's figure, not the shown one
    report = lab.preview(BY_REGION, epsilon=0.5)
    assert report.epsilon == report.charge == report.accounts[0].charge == 0.5
    assert report.accounts[0].remaining == _six_digits(2.0 - exact) == 1.0
    assert report.fits and "charge 0.5 of 1 left" in str(report)
    auto = lab.release(BY_REGION, epsilon=1.0, bounds="auto").metadata
    assert auto["epsilon"] == auto["charged_epsilon"] == 1.0
    assert auto["release_budget"] == _six_digits(0.85) and auto["auto_loss"] == 0.15


def test_gaussian_budgets_are_shown_rounded(heavy: it.Tracker) -> None:
    lab = heavy.as_researcher("rounding-rho")
    meta = lab.release(BY_REGION, rho=0.05).metadata
    charged = 0.05 + 2 * (0.05 * __import__("math").log(1e6)) ** 0.5
    assert meta["rho"] == 0.05
    assert meta["charged_epsilon"] == _six_digits(charged)
    eps, delta = meta["epsilon_delta"]
    assert eps == _six_digits(eps) and delta == 1e-6
    assert lab.history()[-1]["amount"] == pytest.approx(charged, rel=1e-7)


def test_too_few_units_keep_the_profiles_bounds_and_say_so() -> None:
    # 30 consultants at ε = 1: the quantile's rank error (~80 units) spans the whole store, so
    # any bound it picked could lie far below the data (a bias the intervals do not show). The
    # decision reads a noisy count of units; its 99 % lower bound keeps a count that came out
    # high from passing (the chance that one of these releases picks anyway is about 1e-3)
    small = heavy_tracker(consultants=30, seed=9)
    for r in range(3):
        lab = small.as_researcher(f"few-{r}")
        meta = lab.release(BY_REGION, epsilon=1.0 + r * 1e-6, bounds="auto").metadata
        assert meta["auto_kept_profile_bounds"] == ["hours"]
        assert meta["bounds"] == {"hours": 80.0} and meta["norm_bounds"] == {"hours": 600.0}
        assert meta["auto_quantile"] == {"hours": None}
        assert "the profile's bounds were kept" in meta["bounds_warning"]
        # the share bound is a noisy count (rough on 60 units), but a share all the same
        assert 0.0 <= meta["clipped_share"]["hours"] <= 1.0
        assert lab.budget[FY].spent == pytest.approx(1.0, abs=1e-5)  # charged like any release
