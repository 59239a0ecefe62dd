"""Our side of the benchmark: load the shared data into our store, release, and the SQL floor.

Each subcommand runs in its own process (so its ``VmHWM`` is the release's own peak) and prints
one ``@@RESULT@@{json}`` line, like the peer runners:

    python benchmarks/ours.py load    --url URL --data FILE.parquet   (or fastload)
    python benchmarks/ours.py check-fast --url URL_LOADED_BY_LOAD --url2 URL_LOADED_BY_FASTLOAD
    python benchmarks/ours.py release --url URL --keys keys.json [--bounding norm [--bounds auto]]
    python benchmarks/ours.py floor   --url URL

The release is the public API: ``Tracker.open(url, profile=BENCH_PROFILE).as_researcher(...)
.release(Query(["activities", "hours"], by=[county, consultation_type, fiscal_year]),
epsilon=1, bounding="max_cells", postprocess=None)``. The bench profile is the shipped Illinois
profile with the peers' bounds: <= 12 cells per consultant, <= 300 activities and <= 2400 hours
(300 rows x 8 h) per consultant per cell; our clip applies to each unit's per-cell total, which
gives the same L1 sensitivities (3600 and 28800) as the peers' per-row bounds.
``--bounding norm`` releases with our default bounding instead: the same per-cell clip, then
each consultant's contributions scaled to the profile's L1 bounds (400 activities, 600 hours
over all cells of the release), which are then the sensitivities; no cell is dropped.
``--bounding norm --bounds auto`` lets the release choose both measures' norm bounds from the
data under DP (``bounds="auto"``: 15 % of the same ε), then release with the rest.

Two loaders (loading is not what is measured; the release reads whatever the store holds):

- ``load``: through ``Store.insert`` (the store's own bulk path: executemany on SQLite, COPY on
  PostgreSQL) in batches, rows built the way ``_rows.to_row`` builds them for a consultation
  (checked against it on the first row); building ``Activity`` objects first would add ~130 us
  a row of pure Python. About 10 minutes for 1M rows on a busy 2-core machine.
- ``fastload`` (default of compare.py): stage the Parquet columns with the driver's bulk path,
  then one ``INSERT ... SELECT`` into the store's table, after ``Tracker.open`` has made the
  schema. ``check-fast`` compares the two loaders' tables column by column (equal at 100k rows
  on SQLite and PostgreSQL, but for the per-row digest and the load time stamp).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from data import FISCAL_YEARS, KEY_COLUMNS, MAX_CELLS, MAX_ROWS  # noqa: E402
from peers._common import peak_rss_mb  # noqa: E402

BENCH_PROFILE = HERE / "data" / "bench_profile.toml"
ANALYST = "bench"


def bench_profile() -> Path:
    """The Illinois profile with the benchmark's bounds and a budget that never runs out."""
    import iecmhc_tracker

    src = Path(iecmhc_tracker.__file__).parent / "profiles" / "illinois.toml"
    text = src.read_text()
    subs = {
        r"(?m)^name = \"illinois\"$": 'name = "illinois_bench"',
        r"(?m)^lifetime_epsilon_per_fiscal_year = .*$": "lifetime_epsilon_per_fiscal_year = 1e6",
        r"(?m)^analyst_epsilon_per_fiscal_year = .*$": "analyst_epsilon_per_fiscal_year = 1e6",
        r"(?m)^bounding = .*$": 'bounding = "max_cells"',
        r"(?m)^max_cells = .*$": f"max_cells = {MAX_CELLS}",
        r"(?m)^activities = 40$": f"activities = {MAX_ROWS}",
        r"(?m)^hours = 80$": f"hours = {MAX_ROWS * 8}",
    }
    for pat, rep in subs.items():
        text, n = re.subn(pat, rep, text, count=1)
        if n != 1:
            raise SystemExit(
                f"bench profile: {pat!r} not found in {src}; update benchmarks/ours.py"
            )
    BENCH_PROFILE.parent.mkdir(parents=True, exist_ok=True)
    if not BENCH_PROFILE.exists() or BENCH_PROFILE.read_text() != text:
        BENCH_PROFILE.write_text(text)
    return BENCH_PROFILE


def _region_of() -> dict[str, str]:
    import iecmhc_tracker

    return {c.code: c.region for c in iecmhc_tracker.load_profile("illinois").counties}


_SETTINGS = ("child_care", "head_start", "preschool", "early_head_start", "home_visiting")


def _rows(batch: Any, start: int, region: dict[str, str]) -> list[dict[str, Any]]:
    cols = {c: batch.column(c).to_pylist() for c in batch.column_names}
    out = []
    for i in range(batch.num_rows):
        n = start + i
        d = cols["date"][i]
        # Illinois fiscal quarters start in July
        quarter = ((d.month - 7) % 12) // 3 + 1
        row = {
            "id": str(uuid.UUID(int=n + 1)),
            "consultant": cols["consultant"][i],
            "program": None,
            "date": d,
            "fiscal_year": cols["fiscal_year"][i],
            "quarter": quarter,
            "county": cols["county"][i],
            "region": region[cols["county"][i]],
            "setting": _SETTINGS[n % len(_SETTINGS)],
            "kind": "consultation",
            "consultation_type": cols["consultation_type"][i],
            "tier": None,
            "modality": None,
            "format": None,
            "methods": "",
            "competencies": "",
            "hours": float(cols["hours"][i]),
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
            "referrals": {},
        }
        row["content_hash"] = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:32]
        out.append(row)
    return out


def _check_rows_match_to_row(sample: dict[str, Any]) -> None:
    """The fast rows must be what the library itself would store for the same activity."""
    from decimal import Decimal

    import iecmhc_tracker as it
    from iecmhc_tracker._rows import to_row

    p = it.load_profile(str(bench_profile()))
    a = it.Activity(
        id=uuid.UUID(sample["id"]),
        consultant=sample["consultant"],
        date=sample["date"],
        county=sample["county"],
        setting=sample["setting"],
        kind="consultation",
        consultation_type=sample["consultation_type"],
        hours=Decimal(repr(sample["hours"])),
    )
    from iecmhc_tracker._validate import problems as find_problems

    problems = find_problems(a, p)
    ref = to_row(a, p)
    diff = {k: (sample[k], ref[k]) for k in ref if k != "content_hash" and sample[k] != ref[k]}
    if diff or problems:
        raise SystemExit(f"bench loader rows differ from _rows.to_row: {diff} {problems}")


def load(url: str, data: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import iecmhc_tracker as it

    region = _region_of()
    t0 = time.perf_counter()
    tracker = it.Tracker.open(url, profile=str(bench_profile()))
    n = 0
    checked = False
    for batch in pq.ParquetFile(data).iter_batches(batch_size=50_000):
        rows = _rows(batch, n, region)
        if not checked:
            _check_rows_match_to_row(rows[0])
            checked = True
        _inserted, _dups, conflicts = tracker.store.insert(rows)
        if conflicts:
            raise SystemExit(f"conflicting ids while loading: {conflicts[:3]}")
        n += len(rows)
    tracker.store.close()
    _analyze(url)
    return {"rows": n, "seconds": time.perf_counter() - t0}


def _analyze(url: str) -> None:
    """Fresh planner statistics, as autovacuum would gather soon after a big import: without
    them PostgreSQL estimates 1 row and picks an index scan plus an on-disk sort (3.7x slower
    at 1M rows)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.exec_driver_sql("ANALYZE")
    engine.dispose()


# Columns the fast loader fills from the data set; every other column takes its empty value.
_FAST_COLUMNS = (
    "id, consultant, program, date, fiscal_year, quarter, county, region, setting, kind, "
    "consultation_type, tier, modality, format, methods, competencies, hours, minutes, "
    "children_benefiting, staff_influenced, families, participants, rated_worthwhile, "
    "referral_total, recommended_consultation, language, note, extra, tags, content_hash, "
    "recorded_at"
)


def _fast_select(dialect: str, stamp: str) -> str:
    """SELECT producing the rows ``_rows`` would (checked by ``check-fast``), from ``stage``."""
    if dialect == "sqlite":
        uid = "printf('00000000-0000-0000-0000-%012x', s.n + 1)"
        digest = "printf('%032x', s.n + 1)"
        month = "CAST(strftime('%m', s.date) AS INTEGER)"
    else:
        uid = "'00000000-0000-0000-0000-' || lpad(to_hex(s.n + 1), 12, '0')"
        digest = "lpad(to_hex(s.n + 1), 32, '0')"
        month = "CAST(extract(month FROM s.date) AS INTEGER)"
    setting = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(_SETTINGS))
    return (
        f"SELECT {uid}, s.consultant, NULL, s.date, s.fiscal_year, (({month} + 5) % 12) / 3 + 1, "
        f"s.county, r.region, CASE s.n % {len(_SETTINGS)} {setting} END, 'consultation', "
        "s.consultation_type, NULL, NULL, NULL, '', '', s.hours, NULL, NULL, NULL, NULL, NULL, "
        f"NULL, 0, NULL, NULL, NULL, '', '', {digest}, '{stamp}' "
        "FROM stage s JOIN regions r ON r.county = s.county"
    )


def fastload(url: str, data: Path) -> dict[str, Any]:
    """Bench-only loader: stage the Parquet columns with the driver's bulk path, then fill our
    store's table with one INSERT ... SELECT in the database (no per-row Python). The store
    makes its own schema first (Tracker.open runs its migrations); rows equal the insert path's
    apart from ``content_hash`` (a unique digest either way) and ``recorded_at``."""
    import datetime as dt

    import pyarrow.parquet as pq

    import iecmhc_tracker as it

    t0 = time.perf_counter()
    tracker = it.Tracker.open(url, profile=str(bench_profile()))
    schema = tracker.store.schema  # type: ignore[attr-defined]
    table, meta = schema.activities.name, schema.meta.name
    tracker.store.close()
    region = _region_of()
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    cols = ["consultant", "county", "consultation_type", "fiscal_year", "hours", "date"]
    stage_ddl = (
        "CREATE TEMP TABLE stage (n BIGINT, consultant VARCHAR(64), county VARCHAR(64), "
        "consultation_type VARCHAR(64), fiscal_year INTEGER, hours DOUBLE PRECISION, date {d})"
    )
    insert = f"INSERT INTO {table} ({_FAST_COLUMNS}) "
    bump = f"UPDATE {meta} SET value = value + 1 WHERE key = 'data_version'"
    n = 0
    if url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        con.execute(stage_ddl.format(d="TEXT"))
        con.execute("CREATE TEMP TABLE regions (county TEXT PRIMARY KEY, region TEXT)")
        con.executemany("INSERT INTO regions VALUES (?, ?)", region.items())
        for batch in pq.ParquetFile(data).iter_batches(batch_size=200_000, columns=cols):
            vals = [batch.column(c).to_pylist() for c in cols]
            vals[-1] = [d.isoformat() for d in vals[-1]]
            con.executemany(
                "INSERT INTO stage VALUES (?,?,?,?,?,?,?)",
                zip(range(n, n + batch.num_rows), *vals, strict=True),
            )
            n += batch.num_rows
        con.execute(insert + _fast_select("sqlite", stamp))
        con.execute(bump)
        con.commit()
        con.execute("ANALYZE")
        con.close()
    else:
        import io

        import psycopg
        import pyarrow as pa
        import pyarrow.csv as pacsv

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as con:
            con.execute(stage_ddl.format(d="DATE"))
            con.execute("CREATE TEMP TABLE regions (county TEXT PRIMARY KEY, region TEXT)")
            with con.cursor() as cur:
                cur.executemany("INSERT INTO regions VALUES (%s, %s)", list(region.items()))
                for batch in pq.ParquetFile(data).iter_batches(batch_size=500_000, columns=cols):
                    idx = pa.array(range(n, n + batch.num_rows), type=pa.int64())
                    tbl = pa.Table.from_batches([batch]).add_column(0, "n", idx)
                    buf = io.BytesIO()
                    pacsv.write_csv(tbl, buf, pacsv.WriteOptions(include_header=False))
                    with cur.copy("COPY stage FROM STDIN (FORMAT csv)") as copy:
                        copy.write(buf.getvalue())
                    n += batch.num_rows
            con.execute(insert + _fast_select("postgresql", stamp))
            con.execute(bump)
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f"ANALYZE {table}")
    # the rows went into the table behind the store's back: let it total them per unit and cell
    tracker = it.Tracker.open(url, profile=str(bench_profile()))
    tracker.store.rebuild_cells()  # type: ignore[attr-defined]
    tracker.close()
    return {"rows": n, "seconds": time.perf_counter() - t0, "loader": "fast"}


def check_fast(url_insert: str, url_fast: str) -> dict[str, Any]:
    """The fast loader's rows equal the insert path's, column by column (but the digest)."""
    import sqlalchemy as sa

    skip = {"content_hash", "recorded_at"}
    out = []
    for url in (url_insert, url_fast):
        engine = sa.create_engine(url)
        with engine.connect() as con:
            res = con.exec_driver_sql("SELECT * FROM activities ORDER BY id")
            keys = list(res.keys())
            out.append([{k: v for k, v in zip(keys, r, strict=True) if k not in skip} for r in res])
        engine.dispose()
    a, b = out
    bad = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return {
        "ok": len(a) == len(b) and not bad,
        "rows": len(a),
        "differ": bad[:5],
        "example": [a[bad[0]], b[bad[0]]] if bad else None,
    }


def release(
    url: str,
    keys_path: Path,
    profile_to: Path | None = None,
    bounding: str = "max_cells",
    bounds: str | None = None,
) -> dict[str, Any]:
    import iecmhc_tracker as it

    years = sorted({int(k[2]) for k in json.loads(keys_path.read_text())})
    assert tuple(years) == FISCAL_YEARS, years
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        tracker = it.Tracker.open(url, profile=str(bench_profile()), cache_dir=cache)
        lab = tracker.as_researcher(ANALYST)
        query = it.Query(
            measures=["activities", "hours"],
            by=list(KEY_COLUMNS),
            where={"fiscal_year": list(FISCAL_YEARS)},
        )
        profiler = None
        if profile_to is not None:
            from pyinstrument import Profiler  # bench extra

            profiler = Profiler(interval=0.001)
            profiler.start()
        t1, c1 = time.perf_counter(), time.process_time()
        rel = lab.release(query, epsilon=1.0, bounding=bounding, bounds=bounds, postprocess=None)
        t2, c2 = time.perf_counter(), time.process_time()
        if profiler is not None and profile_to is not None:
            profiler.stop()
            profile_to.parent.mkdir(parents=True, exist_ok=True)
            profile_to.write_text(profiler.output_text(unicode=True, show_all=False))
        frame = rel.to_pandas()
        tracker.store.close()
    wide = frame.pivot_table(index=list(KEY_COLUMNS), columns="measure", values="value")
    cells = [
        [c, t, int(y), float(r["activities"]), float(r["hours"])]
        for (c, t, y), r in wide.iterrows()
    ]
    meta = {k: v for k, v in frame.attrs.items() if isinstance(v, str | int | float | bool)}
    if bounds == "auto":
        # what the DP bound selection chose, and the share of consultants it binds
        meta.update({k: frame.attrs[k] for k in ("norm_bounds", "clipped_share", "auto_quantile")})
    return {
        "ok": True,
        "cells": cells,
        "release_seconds": t2 - t1,
        "release_cpu_seconds": c2 - c1,  # this process only (SQLite runs in it; PostgreSQL not)
        "total_seconds": t2 - t0,
        "info": {"metadata": meta},
    }


def floor(url: str) -> dict[str, Any]:
    """The plain two-level aggregation, no privacy: per (unit, cell), then per cell."""
    import sqlalchemy as sa

    import iecmhc_tracker as it

    tracker = it.Tracker.open(url, profile=str(bench_profile()))
    schema = tracker.store.schema  # type: ignore[attr-defined]
    tracker.store.close()
    sql = (
        "SELECT county, consultation_type, fiscal_year, SUM(n), SUM(h) FROM ("
        " SELECT consultant, county, consultation_type, fiscal_year,"
        " {count} AS n, SUM(hours) AS h"
        " FROM {table} GROUP BY consultant, county, consultation_type, fiscal_year"
        ") AS per_unit GROUP BY county, consultation_type, fiscal_year"
    )
    engine = sa.create_engine(url)
    with engine.connect() as con:
        t0, c0 = time.perf_counter(), time.process_time()
        rows = con.exec_driver_sql(
            sql.format(count="COUNT(*)", table=schema.activities.name)
        ).fetchall()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        # the same aggregation over the store's per-unit cell totals our release reads
        t1 = time.perf_counter()
        con.exec_driver_sql(sql.format(count="SUM(n)", table=schema.cells.name)).fetchall()
        dt_cells = time.perf_counter() - t1
    engine.dispose()
    cells = [[c, t, int(y), float(n), float(h)] for c, t, y, n, h in rows]
    return {
        "ok": True,
        "cells": cells,
        "release_seconds": dt,
        "release_cpu_seconds": dc,
        "total_seconds": dt,
        "cells_seconds": dt_cells,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "command", choices=["load", "fastload", "check-fast", "release", "floor", "profile"]
    )
    ap.add_argument("--url2", help="check-fast: the store loaded by the other loader")
    ap.add_argument("--url")
    ap.add_argument("--data", type=Path)
    ap.add_argument("--keys", type=Path)
    ap.add_argument("--profile-to", type=Path, help="write a pyinstrument profile of the release")
    ap.add_argument(
        "--bounding",
        choices=["max_cells", "norm"],
        default="max_cells",
        help="release: the peers' bounds (max_cells) or our default L1 norm scaling (norm)",
    )
    ap.add_argument(
        "--bounds",
        choices=["auto"],
        default=None,
        help="release: bounds chosen from the data under DP (15 %% of the same ε)",
    )
    args = ap.parse_args()
    out: dict[str, Any] = {"ok": False, "error": None}
    try:
        if args.command == "profile":
            out = {"ok": True, "path": str(bench_profile())}
        elif args.command == "load":
            out = {"ok": True, **load(args.url, args.data)}
        elif args.command == "fastload":
            out = {"ok": True, **fastload(args.url, args.data)}
        elif args.command == "check-fast":
            out = check_fast(args.url, args.url2)
        elif args.command == "release":
            out = release(args.url, args.keys, args.profile_to, args.bounding, args.bounds)
        else:
            out = floor(args.url)
    except Exception as e:  # the harness reports it in the table
        import traceback

        out = {"ok": False, "error": f"{type(e).__name__}: {e}"[:2000]}
        out["traceback"] = traceback.format_exc()[-4000:]
    out["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n@@RESULT@@" + json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main()
