"""State tables released with differential privacy (``mode = "dp"``): noise on every cell,
nothing withheld, charged once per fiscal year of data on the state's account, recorded in
the publication ledger, capped by the state's allotment, and refused when misconfigured."""

from __future__ import annotations

import datetime as dt
import math
import re
from importlib import resources
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker import _dp
from iecmhc_tracker._accounting import STATE_ACCOUNT
from iecmhc_tracker._dptables import sum_half_width

TODAY = dt.date(2026, 11, 1)
DP_TABLE = "coaching_by_county"


def _montana(tmp_path: Path, table: str = "", **dp_values: object) -> it.Profile:
    """Montana with the DP table replaced by ``table`` (TOML) and [privacy.dp] keys set."""
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text()
    if table:
        start = text.index('name = "coaching_by_county"')
        end = text.index("[[tables]]", start)
        text = text[:start] + table + "\n\n" + text[end:]
    for key, value in dp_values.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    path = tmp_path / "montana-custom.toml"
    path.write_text(text)
    return it.load_profile(path)


def _tracker(profile: it.Profile, n: int = 3000, seed: int = 3) -> it.Tracker:
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    acts = it.generate_activities(profile, n, consultants=25, seed=seed, today=TODAY, notes=False)
    assert t.record_many(acts).ok
    return t


def _add(t: it.Tracker, n: int, seed: int) -> None:
    acts = it.generate_activities(t.profile, n, consultants=3, seed=seed, today=TODAY, notes=False)
    assert t.record_many(acts).ok


def _state_charges(t: it.Tracker) -> list[dict[str, object]]:
    return [e for e in t.store.ledger(STATE_ACCOUNT) if e["amount"] > 0]


def _truth(t: it.Tracker, table: it.Table) -> dict[tuple[object, ...], list[float]]:
    """The exact bounded totals of the table's inner cells (what the noise is added to)."""
    from iecmhc_tracker._researcher import prepare

    spec = t.profile.table(table.name)
    q = it.Query(list(spec.measures), list(spec.by), dict(spec.where))
    prep = prepare(t.scope, q, epsilon=spec.epsilon)
    vectors = prep.bounded(t.scope)
    return {k: [vec[i] for vec in vectors] for i, k in enumerate(prep.keys)}


def test_shipped_montana_has_one_dp_table_and_illinois_none() -> None:
    montana, illinois = it.load_profile("montana"), it.load_profile("illinois")
    spec = montana.table(DP_TABLE)
    assert (spec.mode, spec.epsilon) == ("dp", 0.5)
    assert montana.dp.state_epsilon_per_fiscal_year >= spec.epsilon
    assert [t.name for t in montana.tables if t.mode == "dp"] == [DP_TABLE]
    assert [t.name for t in illinois.tables if t.mode == "dp"] == []
    assert illinois.dp.state_epsilon_per_fiscal_year == 0.0


def test_a_dp_table_is_noisy_everywhere_and_withholds_nothing(tmp_path: Path) -> None:
    # a coarse table on a big store, so that the values mean something beside the noise
    profile = _montana(
        tmp_path,
        'name = "coaching_by_county"\nmeasures = ["hours", "activities"]\n'
        'by = ["region", "fiscal_year"]\nwhere = { kind = ["consultation"] }\n'
        'mode = "dp"\nepsilon = 2.0',
        state_epsilon_per_fiscal_year=4.0,
    )
    t = _tracker(profile, n=20_000)
    table = t.as_state().table(DP_TABLE)
    meta = table.metadata()
    assert meta["mode"] == "dp" and meta["mechanism"] == "laplace"
    assert meta["epsilon"] == pytest.approx(2.0, rel=1e-6)
    assert meta["policy"] is None
    assert table.counts()["withheld"] == 0
    assert all(c.reason is None and set(c.flags.values()) == {None} for c in table.all_cells)
    truth = _truth(t, table)
    half = meta["half_width"]
    differs = 0
    for cell in table.cells:
        for j, m in enumerate(table.measures):
            value, true = cell.values[m], truth[cell.coords][j]
            assert value is not None and value >= 0
            if m == "activities":
                assert float(value).is_integer()
            assert abs(value - true) <= 3 * half[m]
            differs += value != true
    assert differs > len(table.cells)  # noise on (nearly) every value
    # margins are the sums of the noisy inner cells: within their own half-widths of the truth
    widths = {tuple(lv["total_over"]): lv for lv in meta["margin_half_width"]}
    for cell in table.margins:
        over = tuple(d for d, c in zip(table.dims, cell.coords, strict=True) if c is None)
        inside = [
            k
            for k in truth
            if all(c is None or c == x for c, x in zip(cell.coords, k, strict=True))
        ]
        assert len(inside) == widths[over]["cells"]
        for j, m in enumerate(table.measures):
            true = sum(truth[k][j] for k in inside)
            assert abs(cell.values[m] - true) <= 3 * widths[over]["half_width"][m]


def test_the_state_is_charged_once_per_fiscal_year_and_a_repeat_is_identical(
    tmp_path: Path,
) -> None:
    t = _tracker(it.load_profile("montana"))
    first = t.as_state().table(DP_TABLE)
    (charge,) = _state_charges(t)
    years = [f"FY{y}" for y in t.profile.fiscal_years(TODAY)]
    assert charge["partitions"] == years
    assert charge["amount"] == pytest.approx(0.5, rel=1e-6)
    assert charge["entry"]["table"] == DP_TABLE  # type: ignore[index]
    for part in years:
        assert t.store.spent(STATE_ACCOUNT, part) == pytest.approx(0.5, rel=1e-6)
    # published again on unchanged data, by a new view: the recorded table, at no cost
    again = t.as_state().table(DP_TABLE)
    assert again.to_dict() == first.to_dict()
    assert len(_state_charges(t)) == 1
    assert len(t.store.publications()) == 1


def test_new_data_is_a_new_charge_and_the_allotment_caps_it(tmp_path: Path) -> None:
    t = _tracker(it.load_profile("montana"))  # allotment 2.0, epsilon 0.5: four releases
    state = t.as_state()
    releases = [state.table(DP_TABLE)]
    for seed in range(3):
        _add(t, 5, seed=100 + seed)
        releases.append(state.table(DP_TABLE))
    assert len(_state_charges(t)) == 4
    assert len({r.data_version for r in releases}) == 4
    assert releases[-1].to_records() != releases[-2].to_records()  # noised anew
    assert t.store.spent(STATE_ACCOUNT, "FY2026") == pytest.approx(2.0, rel=1e-6)
    # the fifth would pass the allotment: the last release is served again, with a note
    _add(t, 5, seed=200)
    stale = state.table(DP_TABLE)
    assert len(_state_charges(t)) == 4
    assert stale.metadata()["stale"] is True
    assert "budget" in stale.metadata()["note"] and "FY20" in stale.metadata()["note"]
    assert stale.to_records() == releases[-1].to_records()
    assert stale.data_version == releases[-1].data_version
    # the suppressed tables are still released on the new data
    assert state.table("coaching_by_type").data_version != releases[-1].data_version
    assert "Not updated" in state.dashboard_html(2026)


def test_budget_exceeded_names_the_table_and_year_when_nothing_was_released(
    tmp_path: Path,
) -> None:
    t = _tracker(it.load_profile("montana"))
    # analysts spend everyone's lifetime cap on FY2025 first
    lab = t.as_researcher("analyst-1")
    lab2 = t.as_researcher("analyst-2")
    q = it.Query(["hours"], where={"fiscal_year": 2025})
    lab.release(q, epsilon=2.0)
    lab2.release(it.Query(["activities"], where={"fiscal_year": 2025}), epsilon=1.8)
    with pytest.raises(it.BudgetExceeded, match=r"coaching_by_county.*FY2025") as err:
        t.as_state().tables()
    assert err.value.partition == "FY2025" and err.value.limit == "lifetime"
    assert _state_charges(t) == []


def test_the_sensitivity_is_the_profiles_per_consultant_bound() -> None:
    profile = it.load_profile("montana")
    t = _tracker(profile, n=500)
    meta = t.as_state().table(DP_TABLE).metadata()
    n = len(profile.counties) * len(profile.fiscal_years(TODAY))
    for m in ("hours", "activities"):
        clip, norm = profile.dp.bounds[m], profile.dp.norm_bounds[m]
        assert meta["bounds"][m] == clip and meta["norm_bounds"][m] == norm
        expected = _dp.sensitivity(
            "laplace", "norm", clip=clip, norm_bound=norm, max_cells=12, n_cells=n
        )
        assert meta["sensitivity"][m] == pytest.approx(min(norm, n * clip), rel=1e-8)
        assert meta["sensitivity"][m] == expected
        # ε split over the two measures: Laplace scale = sensitivity / (ε / 2)
        assert meta["scale"][m] == pytest.approx(expected / 0.25, rel=1e-6)


def test_removing_one_consultant_moves_the_table_by_at_most_the_sensitivity() -> None:
    profile = it.load_profile("montana")
    t = _tracker(profile, n=1500)
    table = t.as_state().table(DP_TABLE)
    with_all = _truth(t, table)
    consultants = {p[0] for p in t.store.partial_sums("consultant", (), [("*", ())], {})}
    heaviest = max(
        consultants, key=lambda c: sum(r["hours"] or 0 for r in t.store.rows(consultant=c))
    )
    neighbour = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    neighbour.store.insert(
        [r for c in sorted(consultants - {heaviest}) for r in t.store.rows(consultant=c)]
    )
    without = _truth(neighbour, table)
    sens = table.metadata()["sensitivity"]
    for j, m in enumerate(table.measures):
        moved = sum(abs(with_all[k][j] - without[k][j]) for k in with_all)
        assert 0 < moved <= sens[m]


def test_sum_half_widths_are_honest_and_tighter_than_the_union_bound() -> None:
    import numpy as np

    rng = np.random.default_rng(5)
    for k in (1, 4, 56):
        a = sum_half_width("laplace", 10.0, k, 0.95)
        draws = rng.laplace(0, 10.0, size=(20_000, k)).sum(axis=1)
        # exact for one draw, conservative for more (3 standard errors of sampling slack)
        assert np.mean(np.abs(draws) > a) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 20_000)
        if k > 1:
            assert a < k * _dp.half_width("laplace", 10.0, 1 - 0.05 / k)
            # and grows like the square root of k, not like k
            assert a < 6 * math.sqrt(k) * 10.0 * math.sqrt(2)


def test_the_dashboard_reads_a_dp_table() -> None:
    t = _tracker(it.load_profile("montana"), n=500)
    data = t.as_state().dashboard_data(2026)
    titles = [b["title"] for tier in data["tiers"] for b in tier["tables"]]
    assert "Consultation by county" in titles
    assert "differential privacy" in data["footnote"]
    assert "Withheld cells" in data["footnote"]
    assert "noise" in t.as_state().dashboard_html(2026)


def test_the_stewards_audit_leaves_dp_tables_out() -> None:
    t = _tracker(it.load_profile("montana"), n=500)
    tables = t.as_state().tables()
    report = it.audit_suppression(t, *tables.values())
    assert DP_TABLE not in report.tables


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('mode = "noisy"', r"line \d+, key 'tables.mode': must be one of suppression, dp"),
        ('mode = "dp"', r"key 'tables.epsilon': a table with mode = \"dp\" must say its epsilon"),
        ('mode = "dp"\nepsilon = 0', r"key 'tables.epsilon': must be a positive finite number"),
        ('mode = "dp"\nepsilon = -1.0', r"must be a positive finite number, not -1.0"),
        ('mode = "dp"\nepsilon = nan', r"must be a positive finite number, not nan"),
        ('mode = "dp"\nepsilon = inf', r"must be a positive finite number, not inf"),
        ('mode = "dp"\nepsilon = "half"', r"must be a positive finite number, not 'half'"),
        ('mode = "dp"\nepsilon = true', r"must be a positive finite number, not True"),
        ('mode = "dp"\nepsilon = 3.0', r"more than \[privacy.dp\] state_epsilon_per_fiscal_year"),
        ("epsilon = 0.5", r'is read only for a table with mode = "dp"'),
    ],
)
def test_bad_modes_and_epsilons_are_refused_naming_the_line(
    tmp_path: Path, lines: str, message: str
) -> None:
    table = (
        'name = "coaching_by_county"\nmeasures = ["hours"]\nby = ["county", "fiscal_year"]\n'
        + lines
    )
    with pytest.raises(it.ProfileError, match=message) as err:
        _montana(tmp_path, table)
    # the line named is the line of the bad key (or of its table's header)
    line = int(re.search(r"line (\d+)", str(err.value)).group(1))  # type: ignore[union-attr]
    text = (tmp_path / "montana-custom.toml").read_text().splitlines()
    key = "epsilon" if "epsilon" in lines and "mode" not in message else "mode"
    if "must say its epsilon" in message:
        assert text[line - 1].strip() == "[[tables]]"
    elif "suppression, dp" in message:
        assert text[line - 1].startswith("mode")
    else:
        assert text[line - 1].startswith(key) or text[line - 1].startswith("epsilon")


def test_a_dp_table_needs_a_state_allotment(tmp_path: Path) -> None:
    with pytest.raises(it.ProfileError, match="state_epsilon_per_fiscal_year"):
        _montana(tmp_path, state_epsilon_per_fiscal_year=0.0)
