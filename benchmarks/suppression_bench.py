"""Suppression benchmark: every Illinois table (the county × type table included), released
jointly with earlier monthly releases of the same fiscal year, then audited.

Run: .venv/bin/python benchmarks/suppression_bench.py [--activities N] [--consultants N]
     [--months M] [--seed S] [--audit] [--store URL]
     .venv/bin/python benchmarks/suppression_bench.py --shares [--profile illinois]
     (the share of cells withheld in the profile's published tables, per seed)

The store holds the activities of the fiscal year up to each month's end in turn: one release
is published after each of the last ``--months`` months (each joint with those before it, as
the state view publishes), then the release on all the data is timed, and with ``--audit``
the steward's exact audit of it. Prints wall and CPU time, the load average (1 minute,
before and after each timed step: other work on the machine shows in the wall time, not in
the CPU time) and the peak RSS of this process. The defaults are issue 15's target: 100,000
activities, 12 earlier monthly releases, every Illinois table (the county × consultation type
table included), on the memory store (``--store sqlite:///path.db`` for SQLite).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import time
from collections import Counter

import iecmhc_tracker as it

TODAY = dt.date(2026, 6, 30)  # the last day of FY2026


def _month_ends(today: dt.date, months: int) -> list[dt.date]:
    ends = []
    y, m = today.year, today.month
    for _ in range(months):
        ends.append(dt.date(y, m, 1) - dt.timedelta(days=1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return sorted(ends)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--activities", type=int, default=100_000)
    ap.add_argument("--consultants", type=int, default=240)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--audit", action="store_true", help="also run the steward's exact audit")
    ap.add_argument("--shares", action="store_true", help="withheld shares of published tables")
    ap.add_argument("--profile", default="illinois", help="profile name or path (default illinois)")
    ap.add_argument("--store", default="memory://", help="store URL (default memory://)")
    args = ap.parse_args()
    if args.shares:
        shares(args)
        return
    profile = it.load_profile(args.profile)
    acts = sorted(
        it.generate_activities(
            profile, args.activities, consultants=args.consultants, seed=args.seed, today=TODAY
        ),
        key=lambda a: a.date,
    )
    tracker = it.Tracker.open(args.store, profile, today=lambda: TODAY)
    done = 0
    for end in _month_ends(TODAY, args.months):
        upto = [a for a in acts[done:] if a.date <= end]
        tracker.record_many(upto)
        done += len(upto)
        t0, c0 = time.perf_counter(), time.process_time()
        tracker.as_state().tables()
        print(
            f"release through {end}: {done:,} activities, "
            f"{time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
        )
    tracker.record_many(acts[done:])
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    tables = tracker.as_state().tables()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cells = sum(t.counts()["cells"] for t in tables.values())
    withheld = sum(t.counts()["withheld"] for t in tables.values())
    print(
        f"final release ({len(acts):,} activities, {len(tables)} tables, {cells} cells, "
        f"{withheld} withheld; {args.months} earlier releases in the ledger): "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU (load {load:.1f} -> {os.getloadavg()[0]:.1f})"
    )
    if args.audit:
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        report = it.audit_suppression(tracker, *tables.values())
        verdict = "ok" if report.ok else f"{len(report.failures)} FAILURES"
        print(
            f"audit: {len(report.cells)} withheld values, {verdict}, "
            f"{len(report.exact)} exact; {time.perf_counter() - t0:.2f} s wall, "
            f"{time.process_time() - c0:.2f} s CPU (load {load:.1f} -> "
            f"{os.getloadavg()[0]:.1f})"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS {rss:.0f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        f"CPUs; store {args.store}"
    )


def shares(args: argparse.Namespace) -> None:
    """Share of cells (inner and margins, all published tables) withheld, per seed."""
    profile = it.load_profile(args.profile)
    found = []
    for seed in args.seeds:
        tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
        tracker.record_many(
            it.generate_activities(
                profile, args.activities, consultants=args.consultants, seed=seed, today=TODAY
            )
        )
        tables = tracker.as_state().tables()
        total = Counter[str]()
        for name, t in tables.items():
            total.update(t.counts())
            total[name] += t.counts()["withheld"]
        found.append(total["withheld"] / total["cells"])
        by_table = ", ".join(f"{n} {total[n]}" for n in tables)
        print(f"seed {seed}: {total['cells']} cells, {total['withheld']} withheld ({by_table})")
    print(
        f"median share withheld {statistics.median(found):.1%} ({args.activities} activities, "
        f"{args.consultants} consultants, {profile.label}, seeds {args.seeds})"
    )


if __name__ == "__main__":
    main()
