"""The Store contract's ``date_in`` filter (activities in any of several inclusive date
ranges), as tests: part of :mod:`iecmhc_tracker.stores.testing` (which imports them), kept
apart to keep each module to one size. Needs pytest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .._columns import Row
from .._model import Activity
from .._profile import load_profile
from .._rows import to_row
from .._synthetic import generate
from .contract import Store

_IL = load_profile("illinois")
_BASE: dict[str, Any] = {
    "consultant": "c-1",
    "program": "p-1",
    "county": "cook",
    "kind": "consultation",
    "setting": "head_start",
    "consultation_type": "classroom",
    "modality": "onsite",
}
#: (date, hours, consultant): hours are powers of two, so every sum names its rows
_DATED = [
    ("2024-06-30", 1, "c-1"),
    ("2024-07-01", 2, "c-1"),
    ("2025-11-30", 4, "c-1"),
    ("2025-12-01", 8, "c-2"),
    ("2026-07-01", 16, "c-2"),
    ("2026-11-30", 32, "c-1"),
]
#: 1 July–30 November of FY2026 and of FY2027 (Illinois years start in July)
_TO_DATE = [["2025-07-01", "2025-11-30"], ["2026-07-01", "2026-11-30"]]


def _dated_rows() -> list[Row]:
    return [
        to_row(Activity.from_dict({**_BASE, "date": d, "hours": str(h), "consultant": c}), _IL)
        for d, h, c in _DATED
    ]


def test_date_in_keeps_rows_in_any_range_by_hand(store: Store) -> None:
    store.insert(_dated_rows())
    hours = [("hours", ()), ("*", ())]

    def total(filters: dict[str, Any]) -> list[Any]:
        return sorted(store.partial_sums("consultant", [], hours, filters))

    # 30 Nov 2025 (4, c-1), 1 Jul 2026 (16, c-2), 30 Nov 2026 (32, c-1); both ends inclusive
    assert total({"date_in": _TO_DATE}) == [
        ("c-1", (), 2, (36.0, 2.0)),
        ("c-2", (), 1, (16.0, 1.0)),
    ]
    by_year = sorted(
        store.partial_sums("consultant", ["fiscal_year"], hours, {"date_in": _TO_DATE})
    )
    assert by_year == [
        ("c-1", (2026,), 1, (4.0, 1.0)),
        ("c-1", (2027,), 1, (32.0, 1.0)),
        ("c-2", (2027,), 1, (16.0, 1.0)),
    ]
    # a one-day range; overlapping ranges count a row once
    assert total({"date_in": [["2024-07-01", "2024-07-01"]]}) == [("c-1", (), 1, (2.0, 1.0))]
    overlap = [["2024-06-30", "2024-07-01"], ["2024-07-01", "2024-07-01"]]
    assert total({"date_in": overlap}) == [("c-1", (), 2, (3.0, 2.0))]
    # with other filters: all must hold
    assert total({"date_in": _TO_DATE, "fiscal_year": [2027]}) == [
        ("c-1", (), 1, (32.0, 1.0)),
        ("c-2", (), 1, (16.0, 1.0)),
    ]
    assert total({"date_in": _TO_DATE, "date_to": "2026-08-01"}) == [
        ("c-1", (), 1, (4.0, 1.0)),
        ("c-2", (), 1, (16.0, 1.0)),
    ]
    # no range: no row
    assert total({"date_in": []}) == []
    stats = store.cell_stats("consultant", ["fiscal_year"], [("hours", ())], {"date_in": _TO_DATE})
    assert sorted(stats) == [((2026,), 1, 1, (4.0,), (4.0,)), ((2027,), 2, 2, (48.0,), (32.0,))]
    bounded = store.bounded_sums(
        "consultant",
        ["fiscal_year"],
        [("hours", ())],
        {"date_in": _TO_DATE},
        clip=[20.0],
        norm=None,
        norm_bounds=[100.0],
        max_cells=None,
    )
    # c-1's 32 clipped to 20
    assert sorted(bounded) == [((2026,), (4.0,)), ((2027,), (36.0,))]


def test_date_in_agrees_with_the_dates_of_many_rows(store: Store) -> None:
    today = dt.date(2026, 11, 1)
    rows = [to_row(a, _IL) for a in generate(_IL, 400, consultants=9, seed=5, today=today)]
    store.insert(rows)
    ranges = [
        ["2025-02-10", "2025-04-30"],
        ["2025-09-01", "2025-09-01"],
        ["2026-01-01", "2026-03-31"],
    ]
    spans = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in ranges]
    expected: dict[tuple[str, Any], float] = {}
    for r in rows:
        if any(a <= r["date"] <= b for a, b in spans):
            key = (r["consultant"], r["fiscal_year"])
            expected[key] = expected.get(key, 0.0) + float(r["hours"] or 0.0)
    got = {
        (u, cell[0]): sums[0]
        for u, cell, _, sums in store.partial_sums(
            "consultant", ["fiscal_year"], [("hours", ())], {"date_in": ranges}
        )
    }
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) < 1e-6
