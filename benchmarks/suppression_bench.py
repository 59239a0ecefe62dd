"""Suppression benchmark: a 1224-cell table (102 Illinois counties × 3 consultation types × 4
fiscal years) with all its margins within each fiscal year (county × year, type × year and
year totals; fiscal years are never added together: 1648 cells in all), suppressed and (with
--audit) audited.

Run: .venv/bin/python benchmarks/suppression_bench.py [--activities N] [--consultants N]
     [--seeds 1 2 3] [--audit]
     .venv/bin/python benchmarks/suppression_bench.py --shares [--profile illinois]
     (the share of cells withheld in the profile's published tables on demo data, per seed)

Prints, per seed, the cells withheld (primary, dominance, complementary), the time of the
suppression proper (primary + complementary, aggregation excluded) and, with --audit, of
the independent exact LP audit (minutes: two LPs per withheld value).
The issue's bar: suppression < 2 s. Wall time suffers on a loaded machine, so CPU time (all
threads of this process) and the load average are printed beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections import Counter

import iecmhc_tracker as it
from iecmhc_tracker._audit import audit_suppression
from iecmhc_tracker._complementary import complementary
from iecmhc_tracker._profile import TableSpec
from iecmhc_tracker._suppress import aggregate, primary, render

TODAY = dt.date(2026, 11, 1)
SPEC = TableSpec(
    name="county_type_year",
    title="Hours of consultation by county, type and fiscal year",
    measures=("hours", "activities"),
    by=("county", "consultation_type", "fiscal_year"),
    where={"kind": ("consultation",)},
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--activities", type=int, default=20000)
    ap.add_argument("--consultants", type=int, default=240)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--audit", action="store_true", help="also run the exact LP audit (minutes)")
    ap.add_argument("--shares", action="store_true", help="withheld shares of published tables")
    ap.add_argument("--profile", default="illinois")
    args = ap.parse_args()
    if args.shares:
        shares(args)
        return
    profile = it.load_profile("illinois")
    years = [profile.fiscal_year(TODAY) - i for i in range(3, -1, -1)]
    times: list[float] = []
    cpus: list[float] = []
    for seed in args.seeds:
        tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
        tracker.record_many(
            it.generate_activities(
                profile,
                args.activities,
                consultants=args.consultants,
                seed=seed,
                fiscal_years=4,
                today=TODAY,
            )
        )
        cells, layouts = aggregate(tracker.store, profile, [SPEC], years)
        inner = sum(1 for c in layouts[0].coords if None not in c)
        t0, c0 = time.perf_counter(), time.process_time()
        reasons, prot = complementary(
            cells, layouts, primary(cells, profile.suppression), profile.suppression
        )
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
        times.append(elapsed)
        cpus.append(cpu)
        table = render(
            profile,
            cells,
            layouts[0],
            reasons,
            years=years,
            generated_at=dt.datetime.now(dt.UTC),
            data_version=None,
        )
        audit = "not audited (--audit)"
        if args.audit:
            t1 = time.perf_counter()
            report = audit_suppression(table)
            verdict = "ok" if report.ok else f"{len(report.failures)} FAILURES"
            audit = f"audit {time.perf_counter() - t1:.1f} s: {verdict}"
        counts = table.counts()
        print(
            f"seed {seed}: {inner} inner cells, {counts['cells']} with margins; withheld "
            f"primary {counts['primary']}, dominance {counts['dominance']}, complementary "
            f"{counts['complementary']}; suppression {elapsed:.3f} s wall, {cpu:.3f} s CPU "
            f"({prot.lp_solves} LPs, {prot.repairs} repairs); {audit}"
        )
    print(
        f"median suppression time {statistics.median(times):.3f} s wall, "
        f"{statistics.median(cpus):.3f} s CPU (bar: < 2 s); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


def shares(args: argparse.Namespace) -> None:
    """Share of cells (inner and margins, all published tables) withheld, per seed."""
    profile = it.load_profile(args.profile)
    prim, comp = [], []
    for seed in args.seeds:
        tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
        tracker.record_many(
            it.generate_activities(
                profile, args.activities, consultants=args.consultants, seed=seed, today=TODAY
            )
        )
        tables = tracker.as_state().tables()
        total = Counter[str]()
        for t in tables.values():
            total.update(t.counts())
            # cells of years before the data starts are empty (shown as 0)
            total["active"] += sum(1 for c in t.all_cells if c.withheld or any(c.values.values()))
        prim.append((total["primary"] + total["dominance"]) / total["cells"])
        comp.append(total["complementary"] / total["cells"])
        print(
            f"seed {seed}: {total['cells']} cells ({total['active']} not empty) in "
            f"{len(tables)} tables; primary "
            f"{total['primary']}, dominance {total['dominance']}, complementary "
            f"{total['complementary']} ({prim[-1]:.1%} primary+dominance, {comp[-1]:.1%} "
            "complementary)"
        )
    print(
        f"median share withheld: primary+dominance {statistics.median(prim):.1%}, "
        f"complementary {statistics.median(comp):.1%} ({args.activities} activities, "
        f"{args.consultants} consultants, {profile.label}, seeds {args.seeds})"
    )


if __name__ == "__main__":
    main()
