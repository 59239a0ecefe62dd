"""Accounting that belongs to the data: the attacks first.

The first three tests spend through the researcher API that every version of the library
has: before releases were charged on the fiscal years of data they read, each of them failed
(six analysts spent 21 epsilon on FY2025 data, one analyst 7.0 over two years of asking, five
spellings of one analyst 17.6).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._accounting import normalise_analyst

TODAY = dt.date(2025, 11, 1)  # FY2026 under a July fiscal year
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "new_state_profile"
FY2025 = it.Query(measures=["hours"], by=["county"], where={"fiscal_year": 2025})


def _granted(lab: object, query: it.Query, eps: float, tries: int = 40) -> float:
    """Spend about ``eps`` at a time until refused; what was charged (cache hits are free).

    The amounts differ per analyst and per try, so every release is a new question."""
    salt = sum(map(ord, str(lab))) % 997
    total = 0.0
    measures = ["hours", "activities", "participants", "minutes", "children_benefiting"]
    for i in range(tries):
        m = measures[i % len(measures)]
        q = it.Query(measures=[m], by=list(query.by), where=dict(query.where))
        amount = eps * (1 + i * 1e-3 + salt * 1e-6)
        try:
            rel = lab.release(q, epsilon=amount)  # type: ignore[attr-defined]
        except it.BudgetExceeded:
            return total
        if not rel.metadata["cached"]:
            total += amount
    return total


def _tracker(profile: it.Profile, today: dt.date = TODAY) -> it.Tracker:
    t = it.Tracker.open("memory://", profile, today=lambda: today)
    acts = it.generate_activities(profile, 400, consultants=12, seed=5, today=today, notes=False)
    assert t.record_many(acts).ok
    return t


def test_six_analysts_together_spend_no_more_than_the_lifetime_cap(
    illinois: it.Profile,
) -> None:
    t = _tracker(illinois)
    spent = sum(_granted(t.as_researcher(f"analyst-{c}"), FY2025, 0.5) for c in "abcdef")
    assert spent <= 4.0 + 1e-6


def test_a_year_later_the_same_data_draws_on_the_same_account(illinois: it.Profile) -> None:
    t = _tracker(illinois)
    first = _granted(t.as_researcher("analyst-1"), FY2025, 0.5)
    # the same store a year on: FY2025 data is still FY2025 data
    later = it.Tracker(t.store, illinois, today=lambda: dt.date(2026, 11, 1))
    again = _granted(later.as_researcher("analyst-1"), FY2025, 0.5)
    assert first + again <= 2.0 + 1e-6


def test_spelling_an_analyst_differently_gets_no_fresh_budget(illinois: it.Profile) -> None:
    t = _tracker(illinois)
    spent = 0.0
    for name in ("an-1", "an-1 ", "AN-1", "an-1\u200b", "\uff41\uff4e-1"):
        try:
            lab = t.as_researcher(name)
        except it.ValidationError as exc:
            assert exc.problems[0].field == "analyst"
            continue
        spent += _granted(lab, FY2025, 0.5)
    assert spent <= 2.0 + 1e-6


def test_mixing_epsilon_and_rho_cannot_pass_the_cap(illinois: it.Profile) -> None:
    t = _tracker(illinois)
    lab = t.as_researcher("mixer")
    q = it.Query(measures=["hours"], where={"fiscal_year": 2025})
    lab.release(q, epsilon=1.0)
    # rho = 0.01 alone is "small", but it is charged 0.01 + 2·sqrt(0.01·ln 1e6) ≈ 0.753 epsilon
    lab.release(it.Query(measures=["activities"], where={"fiscal_year": 2025}), rho=0.01)
    assert lab.budget[2025].spent == pytest.approx(1.0 + 0.01 + 2 * math.sqrt(0.01 * math.log(1e6)))
    with pytest.raises(it.BudgetExceeded, match=r"Ask for rho <= ") as err:
        lab.release(it.Query(measures=["minutes"], where={"fiscal_year": 2025}), rho=0.01)
    assert err.value.limit == "analyst"
    spent = 0.0
    for i in range(20):  # any mix, in any order, stays within the allotment and the cap
        kind = {"rho": 0.001 * (1 + i)} if i % 2 else {"epsilon": 0.05 * (1 + i)}
        try:
            lab.release(it.Query(measures=["participants"], where={"fiscal_year": 2025}), **kind)
        except it.BudgetExceeded:
            continue
    spent = lab.budget[2025].spent
    assert spent <= 2.0 + 1e-9
    assert t.store.spent(None, "FY2025") <= 4.0 + 1e-9


def test_a_release_is_charged_on_every_fiscal_year_it_reads(illinois: it.Profile) -> None:
    t = _tracker(illinois)
    lab = t.as_researcher("reader")
    two = it.Query(measures=["hours"], by=["fiscal_year"], where={"fiscal_year": [2024, 2025]})
    rel = lab.release(two, epsilon=0.5)
    assert rel.metadata["fiscal_years"] == [2024, 2025]
    dates = it.Query(measures=["hours"], where={"date_from": "2025-05-01", "date_to": "2025-08-01"})
    lab.release(dates, epsilon=0.25)  # May 2025 is FY2025, August 2025 is FY2026
    everything = it.Query(measures=["activities"])
    lab.release(everything, epsilon=0.1)
    b = lab.budget
    assert b[2024].spent == pytest.approx(0.6) and b[2025].spent == pytest.approx(0.85)
    assert b[2026].spent == pytest.approx(0.35) and b[2020].spent == pytest.approx(0.1)
    assert [e["partitions"] for e in lab.history()] == [
        ["FY2024", "FY2025"],
        ["FY2025", "FY2026"],
        [f"FY{y}" for y in range(2020, 2027)],
    ]
    with pytest.raises(it.ValidationError) as info:
        lab.release(it.Query(measures=["hours"], where={"fiscal_year": 2031}), epsilon=0.1)
    assert info.value.problems[0].field == "where"


def test_a_cache_hit_tells_another_analyst_nothing_of_who_asked_or_when(
    illinois: it.Profile,
) -> None:
    t = _tracker(illinois)
    first = t.as_researcher("analyst-a").release(FY2025, epsilon=0.5)
    served = t.as_researcher("analyst-b").release(FY2025, epsilon=0.5)
    assert served.metadata["cached"] is True and served.estimates == first.estimates
    m = served.metadata
    assert m["analyst"] == "analyst-b"
    assert "data_version" not in m and str(t.store.data_version()) != m["data"]
    assert len(m["data"]) == 32  # a blake2b digest of (store, data version)
    assert m["time"] >= first.metadata["time"]  # when b was served, not when a asked
    assert "analyst-a" not in repr(m)
    assert t.as_researcher("analyst-b").budget[2025].spent == 0.0


@pytest.mark.parametrize(
    "name",
    ["an-1", " an-1", "AN-1", "An-1\t", "\uff21\uff2e-1", "an\u20111".replace("\u2011", "-")],
)
def test_analyst_ids_are_normalised(name: str) -> None:
    assert normalise_analyst(name) == "an-1"


@pytest.mark.parametrize("name", ["an-1\u200b", "an\u202e-1", "an-1\x00", "a\u2028n", "\u3164"])
def test_invisible_characters_are_refused(name: str, illinois: it.Profile) -> None:
    t = it.Tracker.open("memory://", illinois, today=lambda: TODAY)
    with pytest.raises(it.ValidationError, match=r"U\+") as info:
        t.as_researcher(name)
    assert [p.field for p in info.value.problems] == ["analyst"]


@pytest.mark.parametrize("name", ["", "   ", "\u3000", "state", "STATE "])
def test_empty_and_reserved_ids_are_refused(name: str, illinois: it.Profile) -> None:
    t = it.Tracker.open("memory://", illinois, today=lambda: TODAY)
    with pytest.raises(it.ValidationError) as info:
        t.as_researcher(name)
    assert [p.field for p in info.value.problems] == ["analyst"]


def _shipped(tmp_path: Path, old: str, new: str) -> Path:
    from importlib import resources

    text = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text()
    assert old in text, old
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    return path


NUMBERS = [
    ("lifetime_epsilon_per_fiscal_year = 4.0", "privacy.dp.lifetime_epsilon_per_fiscal_year"),
    ("analyst_epsilon_per_fiscal_year = 2.0", "privacy.dp.analyst_epsilon_per_fiscal_year"),
    ("protection = 0.2", "privacy.suppression.protection"),
    ("min_count = 11", "privacy.suppression.min_count"),
    ("default_epsilon = 0.5", "privacy.dp.default_epsilon"),
    ("hours = 600", "privacy.dp.norm_bounds.hours"),
    ("hours = 80", "privacy.dp.bounds.hours"),
    ("children_benefiting = 300", "limits.children_benefiting"),
]


@pytest.mark.parametrize(("line", "key"), NUMBERS)
@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "-1.0", "-0.0"])
def test_profile_numbers_must_be_finite_and_not_negative(
    tmp_path: Path, line: str, key: str, bad: str
) -> None:
    name = line.split(" = ")[0]
    path = _shipped(tmp_path, line, f"{name} = {bad}")
    at = path.read_text().splitlines().index(f"{name} = {bad}") + 1
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(path)
    text = str(info.value)
    assert str(path) in text and f"line {at}," in text and repr(key) in text


def test_the_old_period_keys_are_refused_saying_what_replaced_them(tmp_path: Path) -> None:
    path = _shipped(tmp_path, "delta = 1e-6", 'delta = 1e-6\nperiod = "fiscal_year"')
    with pytest.raises(it.ProfileError, match=r"line \d+, key 'privacy.dp.period'.*lifetime"):
        it.load_profile(path)
    path = _shipped(tmp_path, "delta = 1e-6", "delta = 1e-6\nbudget_epsilon = 4.0")
    with pytest.raises(it.ProfileError, match="analyst_epsilon_per_fiscal_year"):
        it.load_profile(path)
    path = _shipped(
        tmp_path, "analyst_epsilon_per_fiscal_year = 2.0", "analyst_epsilon_per_fiscal_year = 5.0"
    )
    with pytest.raises(it.ProfileError, match="more than lifetime"):
        it.load_profile(path)


def test_shipped_profiles_share_four_epsilon_per_fiscal_year_two_per_analyst() -> None:
    for name in ("illinois", "california", "montana", EXAMPLES / "lakeshore.toml"):
        dp = it.load_profile(name).dp
        assert dp.lifetime_epsilon_per_fiscal_year == 4.0
        assert dp.analyst_epsilon_per_fiscal_year == 2.0
