"""Release benchmark: our DP release vs. a plain two-level SQL aggregation, same database, same run.

Data: ``--rows`` consultation activities (default 1M) by ``--consultants`` (3000) over 4 fiscal
years in the 102 Illinois counties; the release is hours and activities by county x
consultation type x fiscal year = 1224 public cells at ε = 1 (Laplace, norm bounding). The
rows are generated vectorised (numpy: synthetic *data*, not noise) and inserted through the
library's own store. Printed per backend: median release time, the plain query's median time,
their ratio (target <= 1.3), and the mean absolute error / mean error (bias) of released hours
per cell against the true unclipped totals, for norm scaling and for max_cells bounding.

    .venv/bin/python benchmarks/release_bench.py     # 1M rows, SQLite (+ PostgreSQL if up)
    .venv/bin/python benchmarks/release_bench.py --rows 100000 --no-postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import iecmhc_tracker as it

YEARS = (2023, 2024, 2025, 2026)
TYPES = ("programmatic", "classroom", "child_family")
TODAY = dt.date(2026, 11, 1)
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def rows(
    profile: it.Profile, n: int, consultants: int, seed: int = 20261123
) -> Iterator[dict[str, Any]]:
    """``n`` store rows, skewed like real caseloads: a home county (85 % of a consultant's rows,
    counties weighted Zipf-like), 0-3 secondary counties, log-normal caseloads, per-consultant
    preferences among the consultation types, hours in quarter-hour steps (mostly 1-2)."""
    rng = np.random.default_rng(seed)
    counties = [c.code for c in profile.counties]
    region = {c.code: c.region for c in profile.counties}
    nc = len(counties)
    w = 1.0 / np.arange(1, nc + 1) ** 1.1
    w = w[rng.permutation(nc)]
    w /= w.sum()
    home = rng.choice(nc, size=consultants, p=w)
    n_sec = rng.choice(4, size=consultants, p=[0.55, 0.25, 0.12, 0.08])
    secondary = rng.choice(nc, size=(consultants, 3), p=w)
    caseload = rng.lognormal(0.0, 0.8, size=consultants)
    caseload /= caseload.sum()
    prefs = rng.dirichlet([1.5, 2.0, 1.0], size=consultants)

    who = rng.choice(consultants, size=n, p=caseload)
    away = (rng.random(n) < 0.15) & (n_sec[who] > 0)
    pick = np.minimum((rng.random(n) * np.maximum(n_sec[who], 1)).astype(np.int64), 2)
    county = np.where(away, secondary[who, pick], home[who])
    ctype = (rng.random(n)[:, None] > np.cumsum(prefs[who], axis=1)).sum(axis=1).clip(0, 2)
    fy = np.asarray(YEARS)[rng.choice(4, size=n, p=[0.22, 0.24, 0.26, 0.28])]
    hours = np.clip(np.round(rng.lognormal(np.log(1.4), 0.55, size=n) * 4) / 4, 0.25, 8.0)
    day = rng.integers(0, 365, size=n)
    settings = sorted(profile.code_set("setting"))
    setting = rng.integers(0, len(settings), size=n)
    ids = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    for i in range(n):
        y = int(fy[i])
        date = dt.date(y - 1, 7, 1) + dt.timedelta(days=int(day[i]))
        c = counties[county[i]]
        u = uuid.UUID(int=(int(ids[i, 0]) << 64) | int(ids[i, 1]), version=4)
        yield {
            "id": str(u),
            "consultant": f"c-{who[i]:04d}",
            "program": f"p-{who[i]:04d}-{setting[i]}",
            "date": date,
            "fiscal_year": y,
            "quarter": ((date.month - 7) % 12) // 3 + 1,
            "county": c,
            "region": region[c],
            "setting": settings[setting[i]],
            "kind": "consultation",
            "consultation_type": TYPES[ctype[i]],
            "tier": None,
            "modality": "onsite",
            "format": None,
            "methods": "",
            "competencies": "",
            "hours": float(hours[i]),
            "minutes": None,
            "children_benefiting": None,
            "staff_influenced": None,
            "families": None,
            "participants": None,
            "rated_worthwhile": None,
            "referral_total": 0,
            "recommended_consultation": None,
            "language": None,
            "note": None,
            "extra": "",
            "tags": "",
            "content_hash": u.hex[:32],
            "referrals": {},
        }


def load(tracker: it.Tracker, n: int, consultants: int, batch: int = 50_000) -> float:
    t0 = time.perf_counter()
    buf: list[dict[str, Any]] = []
    for r in rows(tracker.profile, n, consultants):
        buf.append(r)
        if len(buf) == batch:
            tracker.store.insert(buf)
            buf = []
    if buf:
        tracker.store.insert(buf)
    return time.perf_counter() - t0


QUERY = it.Query(
    measures=["hours", "activities"],
    by=["county", "consultation_type", "fiscal_year"],
    where={"fiscal_year": list(YEARS)},
)


def plain_sql(tracker: it.Tracker) -> tuple[float, dict[tuple[Any, ...], float]]:
    """The floor: per (unit, cell) sums, then per cell — what any DP engine must at least do."""
    store: Any = tracker.store
    table = store.schema.activities.name
    sql = (
        "SELECT county, consultation_type, fiscal_year, SUM(s), SUM(n) FROM ("
        f"SELECT consultant, county, consultation_type, fiscal_year, SUM(hours) AS s, "
        f"COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL AND fiscal_year IN "
        f"({', '.join(map(str, YEARS))}) GROUP BY consultant, county, consultation_type, "
        "fiscal_year) p GROUP BY county, consultation_type, fiscal_year"
    )
    t0 = time.perf_counter()
    with store.engine.connect() as conn:
        out = {(r[0], r[1], int(r[2])): float(r[3]) for r in conn.exec_driver_sql(sql)}
    return time.perf_counter() - t0, out


def release(
    tracker: it.Tracker, run: int, bounding: str = "norm", **options: Any
) -> tuple[float, it.Release, it.Release]:
    """Time one release (a cache miss); also return it clamped + rounded (a free cache hit)."""
    # a fresh cache each run, or the repeat would be a (free, instant) cache hit
    with tempfile.TemporaryDirectory() as cache:
        t = it.Tracker(tracker.store, tracker.profile, today=lambda: TODAY, cache_dir=cache)
        lab = t.as_researcher(f"bench-{bounding}-{run}-{uuid.uuid4().hex[:6]}")
        budget = options or {"epsilon": 1.0}
        t0 = time.perf_counter()
        raw = lab.release(QUERY, bounding=bounding, postprocess=(), **budget)
        elapsed = time.perf_counter() - t0
        clamped = lab.release(QUERY, bounding=bounding, **budget)
        assert clamped.metadata["cached"]
        assert t._release_cache is not None
        t._release_cache.close()
    return elapsed, raw, clamped


def errors(rel: it.Release, truth: dict[tuple[Any, ...], float]) -> tuple[float, float]:
    """Mean absolute error and mean error (bias) of released hours per cell."""
    diffs = [e.value - truth.get(e.cell, 0.0) for e in rel.estimates if e.measure == "hours"]
    return statistics.fmean(abs(d) for d in diffs), statistics.fmean(diffs)


def bench(name: str, url: str, args: argparse.Namespace) -> list[str]:
    profile = it.load_profile("illinois")
    tracker = it.Tracker.open(url, profile, today=lambda: TODAY)
    loaded = 0.0
    if tracker.store.data_version() == 0:
        loaded = load(tracker, args.rows, args.consultants)
        store: Any = tracker.store
        with store.engine.begin() as conn:
            # fresh statistics, as autovacuum / a DBA would leave them (same for both queries)
            conn.exec_driver_sql(f"ANALYZE {store.schema.activities.name}")
    plain_times, ours, truth = [], [], {}
    for i in range(args.repeat):
        pt, truth = plain_sql(tracker)
        plain_times.append(pt)
        rt, rel, rel_pp = release(tracker, i)
        ours.append(rt)
    cells = len({e.cell for e in rel.estimates})
    mae, bias = errors(rel, truth)
    mae_pp, _ = errors(rel_pp, truth)
    _, rel_mc, _ = release(tracker, 99, "max_cells")
    mae_mc, bias_mc = errors(rel_mc, truth)
    p, r = statistics.median(plain_times), statistics.median(ours)
    if args.sweep:
        print(f"{name}: hours error per cell by hours norm bound (no post-processing)")
        for label, budget in (
            ("laplace eps=1", {"epsilon": 1.0}),
            ("gaussian rho=0.5", {"rho": 0.5}),
        ):
            for bound in (100, 200, 400, 600):
                _, rs, _ = release(tracker, bound, norm_bounds={"hours": bound}, **budget)
                e, b = errors(rs, truth)
                print(f"  {label:16s} B={bound:4d}  MAE {e:8.1f}  bias {b:+8.1f}")
    tracker.close()
    mean_cell = statistics.fmean(truth.values()) if truth else 0.0
    return [
        f"{name:10s} {args.rows:>9,} {cells:>5} {loaded:7.0f}s {p * 1e3:8.0f}ms {r * 1e3:8.0f}ms "
        f"{r / p:6.2f}x {mean_cell:7.0f} {mae:7.0f} {bias:+7.0f} {mae_pp:7.0f} "
        f"{mae_mc:7.0f} {bias_mc:+7.0f}"
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--consultants", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each (median shown)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--sweep", action="store_true", help="also: error by hours norm bound")
    ap.add_argument("--db", help="keep the SQLite data in this file (reused when present)")
    args = ap.parse_args()

    lines = []
    if args.db:
        lines += bench("sqlite", f"sqlite:///{Path(args.db).resolve()}", args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            lines += bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if not args.no_postgres:
        try:
            import psycopg

            admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
        except Exception as exc:
            print(f"PostgreSQL skipped: {exc}")
        else:
            db = f"iecmhc_bench_{uuid.uuid4().hex[:8]}"
            admin.execute(f"CREATE DATABASE {db}")
            try:
                lines += bench("postgresql", f"postgresql+psycopg://postgres@127.0.0.1/{db}", args)
            finally:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
                admin.close()
    print()
    print("release of hours + activities by county x type x fiscal year, epsilon = 1 (Laplace)")
    print(
        f"{'':10s} {'':>9} {'':>5} {'':>8} {'':>10} {'':>10} {'':>7} {'':>7} "
        f"{'-------- norm --------':>23} {'-- max_cells --':>15}"
    )
    print(
        f"{'backend':10s} {'rows':>9} {'cells':>5} {'load':>8} {'plain SQL':>10} "
        f"{'release':>10} {'ratio':>7} {'mean':>7} {'MAE':>7} {'bias':>7} {'MAE pp':>7} "
        f"{'MAE':>7} {'bias':>7}"
    )
    for line in lines:
        print(line)
    print("ratio = our release / plain two-level SQL (median of --repeat runs; target <= 1.3).")
    print("Errors: released hours per cell vs. the true unclipped totals (mean = mean true cell);")
    print("norm = L1 norm scaling (the default), max_cells = 12 random cells per consultant;")
    print("MAE/bias without post-processing, MAE pp after clamping at 0 and rounding.")


if __name__ == "__main__":
    main()
