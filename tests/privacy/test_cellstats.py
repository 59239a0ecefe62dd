"""A release reads the store once per record kind and sums every grouping itself: the
statistics it suppresses on must be exactly the store's own ``cell_stats``, on every backend."""

from __future__ import annotations

import datetime as dt
import itertools

import iecmhc_tracker as it
from iecmhc_tracker._cellstats import Partials

TODAY = dt.date(2026, 6, 30)


def _normal(stats: list[tuple]) -> list[tuple]:
    return sorted(
        (tuple(map(repr, c)), r, u, tuple(round(v, 9) for v in s), tuple(round(v, 9) for v in t))
        for c, r, u, s, t in stats
    )


def test_groupings_from_one_read_equal_the_stores_cell_stats(store_url: str) -> None:
    profile = it.load_profile("illinois")
    tracker = it.Tracker.open(store_url, profile, today=lambda: TODAY)
    tracker.record_many(it.generate_activities(profile, 1500, consultants=25, seed=4, today=TODAY))
    store = tracker.store
    dims = ("consultation_type", "county", "fiscal_year", "kind", "setting")
    columns = ["*", "hours", "referral_total"]
    partials = Partials(store, "consultant", dims, columns, {})
    measures = [("hours", ()), ("*", ()), ("hours", ("training",)), ("referral_total", ())]
    checked = 0
    for r in range(len(dims) + 1):
        for subset in itertools.combinations(dims, r):
            for filters in ({}, {"kind": ["consultation"]}, {"fiscal_year": [2025, 2026]}):
                want = store.cell_stats("consultant", subset, measures, filters)
                got = partials.cell_stats(subset, measures, filters)
                assert _normal(got) == _normal(want), (subset, filters)
                checked += 1
    assert checked == 96
    # referrals: one record per (activity, referral), as the store counts them
    kinds = sorted(profile.code_set("resource_type"))
    base = {"resource_type": kinds}
    referrals = Partials(
        store, "consultant", ("fiscal_year", "kind", "resource_type"), columns, base
    )
    for subset in [(), ("fiscal_year",), ("fiscal_year", "resource_type")]:
        for filters in (base, {"resource_type": kinds[:3]}):
            assert referrals.answers(measures, filters)
            want = store.cell_stats("consultant", subset, measures, filters)
            assert _normal(referrals.cell_stats(subset, measures, filters)) == _normal(want)
    # without the referral filter the store counts activities: asked of the store itself
    assert not referrals.answers(measures, {})
    want = store.cell_stats("consultant", ("fiscal_year",), measures, {})
    assert _normal(referrals.cell_stats(("fiscal_year",), measures, {})) == _normal(want)
