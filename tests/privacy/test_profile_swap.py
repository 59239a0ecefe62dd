"""The budget belongs to the store's data, not to whichever profile file is at hand.

The attacker is an analyst (or a careless operator) with the store's URL: her allotment on a
fiscal year of data is spent, so she opens the same store under a copy of its profile with a
bigger budget and asks again. The store remembers the profile its data was recorded under,
so the copy is refused and her spending stays within the policy the data was recorded under.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pytest

import iecmhc_tracker as it

TODAY = dt.date(2026, 11, 1)
QUERY = it.Query(measures=["activities"], by=["region"], where={"fiscal_year": 2025})


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with it.Tracker.open(url, "montana", today=lambda: TODAY) as tracker:
        tracker.record_many(
            it.generate_activities(tracker.profile, 400, consultants=30, seed=5, today=TODAY)
        )
    return url


def test_a_bigger_budget_in_a_copied_profile_buys_no_more_releases(tmp_path: Path) -> None:
    url = _store(tmp_path)
    allotment = it.load_profile("montana").dp.analyst_epsilon_per_fiscal_year
    with it.Tracker.open(url, "montana", today=lambda: TODAY) as tracker:
        lab = tracker.as_researcher("an-1")
        lab.release(QUERY, epsilon=allotment)  # her whole allotment on FY2025
        with pytest.raises(it.BudgetExceeded):
            lab.release(it.Query(measures=["hours"], by=["region"], where=QUERY.where))
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")
    richer = tmp_path / "montana.toml"
    richer.write_text(
        text.replace(
            "lifetime_epsilon_per_fiscal_year = 4.0", "lifetime_epsilon_per_fiscal_year = 400"
        ).replace("analyst_epsilon_per_fiscal_year = 2.0", "analyst_epsilon_per_fiscal_year = 200"),
        encoding="utf-8",
    )
    spent = 0.0
    try:
        with it.Tracker.open(url, str(richer), today=lambda: TODAY) as tracker:
            lab = tracker.as_researcher("an-1")
            for _ in range(5):
                lab.release(
                    it.Query(measures=["hours"], by=["region"], where=QUERY.where), epsilon=1.0
                )
                spent += 1.0
    except it.TrackerError:
        pass  # refused: the store holds another profile
    assert spent == 0.0, f"the copied profile bought {spent:g} more epsilon on FY2025"
    with it.Tracker.open(url, today=lambda: TODAY) as tracker:  # the store's own profile
        assert tracker.as_researcher("an-1").budget.years  # still readable, still spent
        assert tracker.store.spent("an-1", "FY2025") == pytest.approx(allotment)
