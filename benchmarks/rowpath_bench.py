"""Time the Python side of ``Tracker.record_many`` per activity: validation and row building.

    python benchmarks/rowpath_bench.py [PROFILE] [N]

Synthetic activities (``generate_activities``) are made first; then ``examine``, ``to_row`` and
the two together as ``record_many`` runs them are timed over all of them, best of a few passes,
in CPU time per activity.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any

import iecmhc_tracker as it
from iecmhc_tracker._rows import row_builder, to_row
from iecmhc_tracker._validate import examine, examiner

TODAY = dt.date(2026, 11, 1)


def best_of(passes: int, fn: Callable[[Any], Any], items: list[Any]) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def main(profile_name: str = "illinois", n: int = 200_000, passes: int = 3) -> None:
    profile = it.load_profile(profile_name)
    acts = list(it.generate_activities(profile, n, consultants=400, seed=1, today=TODAY))
    check, build = examiner(profile), row_builder(profile)

    def both(a: it.Activity) -> None:
        activity, found = check(a, TODAY)
        assert activity is not None and not found
        build(activity)

    for label, fn in (
        ("examine", lambda a: examine(a, profile, TODAY)),
        ("to_row", lambda a: to_row(a, profile)),
        ("examine + row (record_many loop)", both),
    ):
        print(f"{profile_name:10s} {label:34s} {best_of(passes, fn, acts):6.2f} µs/activity")


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "illinois",
        int(sys.argv[2]) if len(sys.argv) > 2 else 200_000,
    )
