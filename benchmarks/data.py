"""The benchmark data set: one seeded, skewed set of consultation activities shared by every system.

Generation is vectorised numpy (this is synthetic *data*, not privacy noise). Shape, by default:
1M activities, 3000 consultants, 102 Illinois counties x 3 consultation types x 4 fiscal years =
1224 public cells. Skew that matters to contribution bounding:

- each consultant has a home county (counties weighted like Illinois: a few large, many small)
  and 0-3 secondary counties; about 85 % of a consultant's rows are in the home county, so most
  consultants touch 12 cells and some touch up to 48 (the 12-cell bound then drops cells);
- caseloads are uneven (log-normal weights), so heavy consultants exceed 300 rows in a cell at
  5M+ rows;
- hours are quarter-hour steps in [0.25, 8], mostly 1-2.

Writes ``benchmarks/data/activities_<rows>.parquet`` (columns consultant, county,
consultation_type, fiscal_year, hours, date) and ``truth_<rows>.parquet`` (per-cell true count,
hours, and the expected values after the peers' bounds). ``load_sqlite`` / ``load_postgres`` put
the same rows in a plain table named ``activities`` for the SQL floor and the SQL-based peers.

    python benchmarks/data.py --rows 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"

#: The release every system runs (issue 9).
MAX_CELLS = 12  # cells (partitions) per consultant
MAX_ROWS = 300  # rows per consultant per cell
HOURS_UPPER = 8.0  # per-row clip of hours
EPSILON = 1.0  # total, shared by count and sum
FISCAL_YEARS = (2022, 2023, 2024, 2025)
TYPES = ("programmatic", "classroom", "child_family")
KEY_COLUMNS = ("county", "consultation_type", "fiscal_year")
SEED = 20261123


def counties() -> list[str]:
    """Illinois county codes, from the library's shipped profile (the public key list)."""
    import iecmhc_tracker

    return [c.code for c in iecmhc_tracker.load_profile("illinois").counties]


def public_keys(county_codes: list[str] | None = None) -> list[tuple[str, str, int]]:
    """The 1224 public cells: county x consultation type x fiscal year."""
    cc = county_codes if county_codes is not None else counties()
    return [(c, t, y) for c in cc for t in TYPES for y in FISCAL_YEARS]


def generate(rows: int, consultants: int = 3000, seed: int = SEED) -> pa.Table:
    """``rows`` activities as an Arrow table; same seed and sizes give the same table."""
    rng = np.random.default_rng(seed)
    cc = counties()
    n_c = len(cc)
    # county weights: Cook-like giant first, then a Zipf-ish tail over the rest
    w_county = 1.0 / np.arange(1, n_c + 1) ** 1.1
    order = rng.permutation(n_c)
    w_county = w_county[np.argsort(order)]
    w_county /= w_county.sum()

    home = rng.choice(n_c, size=consultants, p=w_county)
    n_sec = rng.choice(4, size=consultants, p=[0.55, 0.25, 0.12, 0.08])
    secondary = rng.choice(n_c, size=(consultants, 3), p=w_county)
    caseload = rng.lognormal(mean=0.0, sigma=0.8, size=consultants)
    caseload /= caseload.sum()
    # each consultant favours some consultation types over others
    type_pref = rng.dirichlet([1.5, 2.0, 1.0], size=consultants)

    who = rng.choice(consultants, size=rows, p=caseload)
    # home county 85 %, else one of the consultant's secondary counties (if any)
    away = (rng.random(rows) < 0.15) & (n_sec[who] > 0)
    pick = (rng.random(rows) * np.maximum(n_sec[who], 1)).astype(np.int64)
    county_idx = np.where(away, secondary[who, np.minimum(pick, 2)], home[who])
    # consultation type from the consultant's own preference (inverse-CDF, vectorised)
    cdf = np.cumsum(type_pref[who], axis=1)
    type_idx = (rng.random(rows)[:, None] > cdf).sum(axis=1).clip(0, 2)
    fy_idx = rng.choice(4, size=rows, p=[0.22, 0.24, 0.26, 0.28])
    hours = np.clip(np.round(rng.lognormal(np.log(1.4), 0.55, size=rows) * 4) / 4, 0.25, 8.0)
    # a date inside the fiscal year (Illinois FY starts in July: FY2025 = Jul 2024 - Jun 2025)
    day = rng.integers(0, 365, size=rows)
    fy = np.asarray(FISCAL_YEARS)[fy_idx]
    start = np.array([dt.date(y - 1, 7, 1).toordinal() for y in FISCAL_YEARS])[fy_idx]
    dates = (start + day - dt.date(1970, 1, 1).toordinal()).astype("datetime64[D]")

    width = len(str(consultants))
    names = np.array([f"c-{i:0{width}d}" for i in range(consultants)])
    return pa.table(
        {
            "consultant": pa.array(names[who]),
            "county": pa.array(np.asarray(cc)[county_idx]),
            "consultation_type": pa.array(np.asarray(TYPES)[type_idx]),
            "fiscal_year": pa.array(fy.astype(np.int32)),
            "hours": pa.array(hours),
            "date": pa.array(dates),
        }
    )


def truth(table: pa.Table) -> pa.Table:
    """True per-cell values over all 1224 public keys (0 where a cell has no rows).

    ``count``/``hours``: the plain totals errors are measured against. ``count_clipped`` /
    ``hours_clipped``: their expectation after the peers' bounds (<= 300 rows per consultant per
    cell, kept at random; <= 12 cells per consultant, kept at random; hours clipped to [0, 8]).
    """
    import pandas as pd

    df = table.select(["consultant", *KEY_COLUMNS, "hours"]).to_pandas()
    df["hours"] = df["hours"].clip(0.0, HOURS_UPPER)
    per = df.groupby(["consultant", *KEY_COLUMNS], observed=True, sort=False).agg(
        n=("hours", "size"), h=("hours", "sum")
    )
    per = per.reset_index()
    cells_per_unit = per.groupby("consultant")["n"].transform("size")
    keep = np.minimum(1.0, MAX_CELLS / cells_per_unit)
    row_keep = np.minimum(per["n"], MAX_ROWS) / per["n"]
    per["nc"] = per["n"] * row_keep * keep
    per["hc"] = per["h"] * row_keep * keep
    cell = per.groupby(list(KEY_COLUMNS)).agg(
        count=("n", "sum"),
        hours=("h", "sum"),
        count_clipped=("nc", "sum"),
        hours_clipped=("hc", "sum"),
    )
    keys = pd.DataFrame(public_keys(), columns=list(KEY_COLUMNS))
    out = keys.merge(cell.reset_index(), on=list(KEY_COLUMNS), how="left").fillna(0.0)
    out["count"] = out["count"].astype("int64")
    return pa.Table.from_pandas(out, preserve_index=False)


def paths(rows: int) -> tuple[Path, Path]:
    return DATA_DIR / f"activities_{rows}.parquet", DATA_DIR / f"truth_{rows}.parquet"


def ensure(rows: int, *, force: bool = False) -> tuple[Path, Path]:
    """Generate (or reuse) the data and truth files for ``rows`` activities."""
    data_path, truth_path = paths(rows)
    if force or not (data_path.exists() and truth_path.exists()):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        table = generate(rows)
        pq.write_table(table, data_path)
        pq.write_table(truth(table), truth_path)
        print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f}s -> {data_path}")
    return data_path, truth_path


_DDL = (
    "CREATE TABLE activities (consultant VARCHAR(16) NOT NULL, county VARCHAR(32) NOT NULL, "
    "consultation_type VARCHAR(16) NOT NULL, fiscal_year INTEGER NOT NULL, "
    "hours DOUBLE PRECISION NOT NULL)"
)
_COLS = ["consultant", *KEY_COLUMNS, "hours"]


def load_sqlite(data_path: Path, db_path: Path) -> Path:
    """Plain ``activities`` table in a fresh SQLite file (for the floor and SQL peers)."""
    db_path.unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    con.execute(_DDL)
    for batch in pq.ParquetFile(data_path).iter_batches(batch_size=200_000, columns=_COLS):
        cols = [batch.column(c).to_pylist() for c in _COLS]
        con.executemany("INSERT INTO activities VALUES (?,?,?,?,?)", zip(*cols, strict=True))
    con.commit()
    con.close()
    return db_path


def load_postgres(data_path: Path, dsn: str, schema: str) -> None:
    """Plain ``<schema>.activities`` table in PostgreSQL, loaded with COPY."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(_DDL.replace("TABLE activities", f"TABLE {schema}.activities"))
        with con.cursor() as cur, cur.copy(f"COPY {schema}.activities FROM STDIN") as copy:
            for batch in pq.ParquetFile(data_path).iter_batches(batch_size=200_000, columns=_COLS):
                cols = [batch.column(c).to_pylist() for c in _COLS]
                for rec in zip(*cols, strict=True):
                    copy.write_row(rec)
        con.execute(f"ANALYZE {schema}.activities")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--force", action="store_true", help="regenerate even if the files exist")
    args = ap.parse_args()
    _data_path, truth_path = ensure(args.rows, force=args.force)
    t = pq.read_table(truth_path).to_pandas()
    print(t.describe().T[["mean", "min", "max"]])


if __name__ == "__main__":
    main()
