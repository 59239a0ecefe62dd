"""A cell withheld once stays withheld, across a profile migration too.

The publication ledger links a release to the earlier ones so that no two releases can be
differenced to recover a withheld value. A profile change (``iecmhc profile migrate``) gives
the release another set of tables; the tables it keeps under the same name and definition
are still bound by what earlier releases withheld and published.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._profilestamp import migrate_profile
from privacy.test_attacks import TODAY, crafted, many

REGIONS = """
[[tables]]
name = "consultation_by_region"
measures = ["hours", "activities"]
by = ["region", "fiscal_year"]
where = { kind = ["consultation"] }
"""

#: the same table, and one more: another set of tables for the ledger
WITH_SETTING = (
    REGIONS
    + """
[[tables]]
name = "hours_by_setting"
measures = ["hours", "activities"]
by = ["setting", "fiscal_year"]
where = { kind = ["consultation"] }
"""
)

YEAR = 2026  # the fiscal year of the attack harness's activities (from 1 September 2025)


def first_year() -> list[it.Activity]:
    """Four consultants in each region but the south, where two work: the south is withheld."""
    acts = []
    for region in ("north", "east", "west"):
        acts += many(16, [f"{region}-{i}" for i in range(4)], region)
    return acts + many(16, ["south-0", "south-1"], "south")


def more_in_the_south() -> list[it.Activity]:
    """Three more consultants in the south: on its own, the cell now passes the thresholds."""
    return many(24, ["south-2", "south-3", "south-4"], "south")


def south(tables: dict[str, it.Table]) -> it.TableCell:
    return tables["consultation_by_region"].cell(region="south", fiscal_year=YEAR)


@pytest.mark.parametrize("migrated", [False, True], ids=["same_profile", "after_migrate"])
def test_a_cell_withheld_once_stays_withheld(tmp_path: Path, migrated: bool) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    before = crafted(tmp_path / "v1", REGIONS)
    after = crafted(tmp_path / "v2", WITH_SETTING) if migrated else before
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with it.Tracker.open(url, before, today=lambda: TODAY) as tracker:
        assert tracker.record_many(first_year()).ok
        assert south(tracker.as_state().tables()).withheld
        if migrated:
            migrate_profile(tracker.store, after)
    # a fresh store with the same data publishes the south: only the ledger withholds it
    alone = it.Tracker.open("memory://", after, today=lambda: dt.date(2026, 5, 1))
    assert alone.record_many(first_year() + more_in_the_south()).ok
    assert not south(alone.as_state().tables()).withheld
    with it.Tracker.open(url, after, today=lambda: TODAY) as tracker:
        assert tracker.record_many(more_in_the_south()).ok
        cell = south(tracker.as_state().tables())
    assert cell.withheld, f"published after the ledger withheld it: {cell.values}"
