"""Entry point of ``make bench``: the same DP release in our library and in peer libraries.

Release: DP count of activities and DP sum of hours per cell (county x consultation type x fiscal
year, 1224 public cells), unit = consultant, <= 12 cells per consultant, <= 300 rows per
consultant per cell, hours clipped to [0, 8] per row, total ε = 1 (pure, Laplace).

    .venv/bin/python benchmarks/compare.py [--rows 1000000] [--systems a,b,...]
        [--scaling 100000,1000000,5000000] [--timeout 1200] [--keep-db]

Systems: ours-sqlite, ours-postgres (our library with the peers' bounds), ours-sqlite-norm,
ours-postgres-norm (our default bounding: L1 norm scaling to the profile's bounds, same ε),
ours-sqlite-auto, ours-postgres-auto (that bounding with ``bounds="auto"``: both measures' norm
bounds chosen from the data under DP with 15 % of the same total ε),
floor-sqlite, floor-postgres (a plain two-level GROUP BY on our store's activity rows, no
privacy; also timed over the per-unit cell totals), opendp-polars, smartnoise-sql, pipelinedp,
tumult. Peers run in their own virtual environments (benchmarks/.venvs, made by
peers/setup.sh), each as a subprocess with a timeout; a failure or timeout is reported with the
peer's own message. Every system's results go to benchmarks/results/results_<rows>.json; the
plot (time vs rows, from every results file present) to benchmarks/results/time_vs_rows.png.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import data as bench_data  # noqa: E402

PEERS_DIR = HERE / "peers"
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
OURS_PY = sys.executable  # compare.py runs in the project's .venv (make bench)

PEERS = {  # system -> (venv, runner script, needs the plain SQLite table)
    "opendp-polars": ("opendp_polars", "opendp_polars_run.py", False),
    "smartnoise-sql": ("smartnoise_sql", "smartnoise_sql_run.py", True),
    "pipelinedp": ("pipelinedp", "pipelinedp_run.py", False),
    "tumult": ("tumult", "tumult_run.py", False),
}
#: ours with the peers' bounds (<= 12 cells per consultant), with our default bounding:
#: each consultant's contributions scaled to the profile's L1 bounds (no cell dropped), and
#: that bounding with bounds chosen from the data under DP (``bounds="auto"``, same total ε)
OURS = (
    "ours-sqlite",
    "ours-postgres",
    "ours-sqlite-norm",
    "ours-postgres-norm",
    "ours-sqlite-auto",
    "ours-postgres-auto",
)
OURS_MAIN = OURS[:2]
FLOORS = ("floor-sqlite", "floor-postgres")
ALL_SYSTEMS = (*OURS, *FLOORS, *PEERS)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


# -- subprocess plumbing ---------------------------------------------------------------------
def _run_json(cmd: list[str], *, timeout: float, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``cmd``; parse its ``@@RESULT@@`` line; report timeouts and crashes as failures."""
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        p = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {timeout:.0f} s", "wall": timeout}
    wall = time.perf_counter() - t0
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("@@RESULT@@"):
            out: dict[str, Any] = json.loads(line[len("@@RESULT@@") :])
            out["wall"] = wall
            return out
    tail = (p.stderr or p.stdout).strip().splitlines()[-5:]
    return {"ok": False, "error": f"exit {p.returncode}: " + " | ".join(tail), "wall": wall}


# -- our stores ------------------------------------------------------------------------------
def sqlite_url(rows: int) -> str:
    return f"sqlite:///{bench_data.DATA_DIR / f'ours_{rows}.sqlite'}"


def pg_url(base: str, rows: int) -> str:
    return f"{base}/iecmhc_bench_{rows}"


def _pg_admin(base: str, sql: str) -> None:
    import psycopg

    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(sql)


def _stored_rows(url: str) -> int:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.connect() as con:
            names = sa.inspect(con).get_table_names()
            n = (
                con.exec_driver_sql("SELECT COUNT(*) FROM activities").scalar()
                if ("activities" in names)
                else 0
            )
        engine.dispose()
        return int(n or 0)
    except Exception:
        return -1


def ensure_store(
    system: str, rows: int, data_path: Path, pg_base: str, timeout: float, loader: str = "fast"
) -> str:
    """Load ``rows`` activities into our store for ``system`` once; reuse it while it matches."""
    url = sqlite_url(rows) if _on_sqlite(system) else pg_url(pg_base, rows)
    have = _stored_rows(url)
    if have == rows:
        return url
    if _on_sqlite(system):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        _pg_admin(pg_base, f"DROP DATABASE IF EXISTS iecmhc_bench_{rows}")
        _pg_admin(pg_base, f"CREATE DATABASE iecmhc_bench_{rows}")
    print(f"  loading {rows:,} rows into {url} ({loader} loader) ...", flush=True)
    command = "load" if loader == "insert" else "fastload"
    out = _run_json(
        [OURS_PY, str(HERE / "ours.py"), command, "--url", url, "--data", str(data_path)],
        timeout=timeout * 3,
    )
    if not out.get("ok"):
        raise RuntimeError(f"loading {url} failed: {out.get('error')}")
    print(f"  loaded in {out['seconds']:.0f} s", flush=True)
    return url


def _on_sqlite(system: str) -> bool:
    return "sqlite" in system.split("-")


def drop_pg(pg_base: str, rows: int) -> None:
    try:
        _pg_admin(pg_base, f"DROP DATABASE IF EXISTS iecmhc_bench_{rows}")
    except Exception as e:
        print(f"  could not drop iecmhc_bench_{rows}: {e}")


# -- one system --------------------------------------------------------------------------------
def run_system(
    system: str, rows: int, paths: dict[str, Path], args: argparse.Namespace
) -> dict[str, Any]:
    if system in OURS or system in FLOORS:
        try:
            url = ensure_store(system, rows, paths["data"], args.pg, args.timeout, args.loader)
        except Exception as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        if system in OURS:
            # ---- hook: our library's release (public API; see ours.py) ----
            if not _ours_available():
                return {"ok": False, "error": "ours: not available yet (no Tracker.as_researcher)"}
            cmd = [OURS_PY, str(HERE / "ours.py"), "release", "--url", url]
            cmd += ["--keys", str(paths["keys"])]
            if system.endswith(("-norm", "-auto")):
                cmd += ["--bounding", "norm"]
            if system.endswith("-auto"):
                cmd += ["--bounds", "auto"]
            timed = _run_json(cmd, timeout=args.timeout)
            if args.profile:
                # a second, profiled release: the profiler's overhead stays out of the timing
                prof = RESULTS / f"profile_{system.removeprefix('ours-')}_{rows}.txt"
                _run_json([*cmd, "--profile-to", str(prof)], timeout=args.timeout)
                timed["profile"] = str(prof.relative_to(ROOT))
            return timed
        else:
            cmd = [OURS_PY, str(HERE / "ours.py"), "floor", "--url", url]
        return _run_json(cmd, timeout=args.timeout)
    venv, script, needs_sqlite = PEERS[system]
    py = VENVS / venv / "bin" / "python"
    if not (VENVS / venv / ".ok").exists():
        log = VENVS / f"{venv}.log"
        tail = log.read_text().strip().splitlines()[-3:] if log.exists() else []
        return {"ok": False, "error": "could not install: " + " | ".join(tail)}
    cmd = [str(py), str(PEERS_DIR / script), "--data", str(paths["data"])]
    cmd += ["--keys", str(paths["keys"])]
    if needs_sqlite:
        plain = bench_data.DATA_DIR / f"plain_{rows}.sqlite"
        if not plain.exists():
            bench_data.load_sqlite(paths["data"], plain)
        cmd += ["--sqlite", str(plain)]
    return _run_json(cmd, timeout=args.timeout, cwd=PEERS_DIR)


def _ours_available() -> bool:
    import iecmhc_tracker

    return hasattr(iecmhc_tracker.Tracker, "as_researcher")


# -- accuracy ----------------------------------------------------------------------------------
def score(result: dict[str, Any], truth: Any) -> None:
    """Add MAE of counts and hours (vs the true totals), negatives and missing cells."""
    if not result.get("ok"):
        return
    true = {
        (r["county"], r["consultation_type"], int(r["fiscal_year"])): r
        for r in truth.to_dict("records")
    }
    got = {(c, t, int(y)): (float(n), float(h)) for c, t, y, n, h in result["cells"]}
    err_n, err_h, err_nc, err_hc, neg = [], [], [], [], 0
    for key, tr in true.items():
        n, h = got.get(key, (0.0, 0.0))  # a cell a system does not release reads as 0
        err_n.append(abs(n - tr["count"]))
        err_h.append(abs(h - tr["hours"]))
        err_nc.append(abs(n - tr["count_clipped"]))
        err_hc.append(abs(h - tr["hours_clipped"]))
        neg += (n < 0) + (h < 0)
    k = len(true)
    result["mae_count"] = sum(err_n) / k
    result["mae_hours"] = sum(err_h) / k
    result["mae_count_vs_clipped"] = sum(err_nc) / k
    result["mae_hours_vs_clipped"] = sum(err_hc) / k
    result["negatives"] = neg
    result["cells_released"] = len(got)
    result["cells_missing"] = sum(1 for key in true if key not in got)
    result["cells_extra"] = sum(1 for key in got if key not in true)


# -- report ------------------------------------------------------------------------------------
def _fmt(v: Any, spec: str = ".3g") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    return str(v) if isinstance(v, int) else format(v, spec)


def table(results: dict[str, dict[str, Any]], rows: int) -> str:
    ours = {b: results.get(f"ours-{b}", {}).get("release_seconds") for b in ("sqlite", "postgres")}
    head = (
        "| system | release s | client CPU s | total s | × ours-sqlite | × ours-postgres | "
        "MAE count | MAE hours | negatives (of 2448) | cells | peak RSS MB | failure |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lines = [f"rows = {rows:,}; ε = 1; 1224 public cells", "", head]
    for system, r in results.items():
        sec = r.get("release_seconds")
        ratio_s = sec / ours["sqlite"] if sec and ours["sqlite"] else None
        ratio_p = sec / ours["postgres"] if sec and ours["postgres"] else None
        err = (r.get("error") or "").replace("\n", " ").replace("|", "/")
        if len(err) > 160:
            err = err[:157] + "..."
        lines.append(
            f"| {system} | {_fmt(sec, '.3f')} | {_fmt(r.get('release_cpu_seconds'), '.3f')} | "
            f"{_fmt(r.get('total_seconds'), '.1f')} | "
            f"{_fmt(ratio_s, '.2f')} | {_fmt(ratio_p, '.2f')} | "
            f"{_fmt(r.get('mae_count'), '.0f')} | "
            f"{_fmt(r.get('mae_hours'), '.0f')} | {_fmt(r.get('negatives'))} | "
            f"{_fmt(r.get('cells_released'))} | {_fmt(r.get('peak_rss_mb'), '.0f')} | {err} |"
        )
    lines.append("")
    for system, r in results.items():
        if r.get("cells_seconds") is not None:
            lines.append(
                f"{system} over the store's per-unit cell totals (`unit_cells`), "
                f"the table our release reads: {r['cells_seconds']:.3f} s"
            )
    return "\n".join(lines)


def plot() -> Path | None:
    """Release seconds vs rows per system, from every results file present."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot (install the bench extra)")
        return None
    series: dict[str, dict[str, list[tuple[int, float]]]] = {"wall": {}, "cpu": {}}
    for f in sorted(RESULTS.glob("results_*.json")):
        doc = json.loads(f.read_text())
        for system, r in doc["systems"].items():
            if not r.get("ok"):
                continue
            for kind, key in (("wall", "release_seconds"), ("cpu", "release_cpu_seconds")):
                if r.get(key):
                    series[kind].setdefault(system, []).append((doc["rows"], r[key]))
    if not series["wall"]:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    titles = {
        "wall": "release wall time, s",
        "cpu": "client-process CPU, s (no PostgreSQL server / JVM)",
    }
    for ax, kind in zip(axes, ("wall", "cpu"), strict=True):
        for system, pts in sorted(series[kind].items()):
            pts = sorted(set(pts))
            style = "-o" if system.startswith(("ours", "floor")) else "--s"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=system)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("activities (rows)")
        ax.set_title(titles[kind], fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("DP count + sum per cell, 1224 public cells, ε = 1 (busy 2-core machine)")
    out = RESULTS / "time_vs_rows.png"
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    return out


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


# -- main --------------------------------------------------------------------------------------
def bench_rows(rows: int, systems: list[str], args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    data_path, truth_path = bench_data.ensure(rows)
    keys_path = bench_data.DATA_DIR / "keys.json"
    keys_path.write_text(json.dumps(bench_data.public_keys()))
    truth = pd.read_parquet(truth_path)
    paths = {"data": data_path, "truth": truth_path, "keys": keys_path}
    results: dict[str, dict[str, Any]] = {}
    for system in systems:
        load_before = os.getloadavg()[0]
        print(f"[{rows:,}] {system} ... (load average {load_before:.1f})", flush=True)
        r = run_system(system, rows, paths, args)
        # other work on the machine skews timings: keep the 1-minute load average with them
        r["loadavg_before"] = load_before
        score(r, truth)
        r.pop("traceback", None) if r.get("ok") else None
        results[system] = r
        status = "ok" if r.get("ok") else f"FAILED: {(r.get('error') or '')[:200]}"
        print(f"    {status}; release {_fmt(r.get('release_seconds'), '.3f')} s", flush=True)
    doc = {
        "rows": rows,
        "machine": machine(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "systems": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    # noisy cells are kept out of the committed summary (they are large and not informative)
    slim = {
        **doc,
        "systems": {s: {k: v for k, v in r.items() if k != "cells"} for s, r in results.items()},
    }
    path = RESULTS / f"results_{rows}.json"
    if path.exists():
        # keep systems this run did not touch (e.g. peers measured in an earlier run), labelled
        earlier = json.loads(path.read_text())
        for system, r in earlier.get("systems", {}).items():
            if system not in slim["systems"]:
                r.setdefault("measured", earlier.get("when"))
                slim["systems"][system] = r
    path.write_text(json.dumps(slim, indent=1, default=str))
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument(
        "--systems",
        default=",".join(ALL_SYSTEMS),
        help="comma-separated subset of: " + ", ".join(ALL_SYSTEMS),
    )
    ap.add_argument(
        "--scaling",
        default="",
        help="also time ours and the floor at these row counts, e.g. "
        "100000,1000000,5000000 (peak RSS of our release included)",
    )
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per system run")
    ap.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", DEFAULT_PG),
        help="PostgreSQL server URL without database (trust auth)",
    )
    ap.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the loaded SQLite files and PostgreSQL databases for reuse",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="profile our releases with pyinstrument -> results/profile_<backend>_<rows>.txt",
    )
    ap.add_argument(
        "--loader",
        choices=["fast", "insert"],
        default="fast",
        help="fill our stores with one INSERT ... SELECT in the database (fast, default) or "
        "through Store.insert in batches (the library's own path; ~10x slower to load)",
    )
    ap.add_argument("--no-setup", action="store_true", help="do not create missing peer venvs")
    args = ap.parse_args()

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in ALL_SYSTEMS]
    if unknown:
        ap.error(f"unknown systems {unknown}; choose from {', '.join(ALL_SYSTEMS)}")
    peers = [PEERS[s][0] for s in systems if s in PEERS]
    if peers and not args.no_setup:
        print("peer environments:", flush=True)
        subprocess.run(["bash", str(PEERS_DIR / "setup.sh"), *peers], check=False)

    print(json.dumps(machine()))
    loaded: set[int] = set()
    doc = bench_rows(args.rows, systems, args)
    loaded.add(args.rows)
    print()
    text = table(doc["systems"], args.rows)
    print(text)
    (RESULTS / f"table_{args.rows}.md").write_text(text + "\n")

    scaling_rows = [int(x) for x in args.scaling.split(",") if x.strip()]
    if scaling_rows:
        ours_systems = [s for s in systems if s in OURS or s in FLOORS]
        scale: dict[int, dict[str, Any]] = {}
        for n in scaling_rows:
            if n == args.rows:
                scale[n] = doc["systems"]
                continue
            scale[n] = bench_rows(n, ours_systems, args)["systems"]
            loaded.add(n)
        lines = [
            "Scaling (release seconds; peak RSS MB of the release process)",
            "",
            "| rows | " + " | ".join(ours_systems) + " | ours-sqlite RSS | ours-postgres RSS |",
            "|---:|" + "---:|" * (len(ours_systems) + 2),
        ]
        for n in scaling_rows:
            r = scale[n]
            cells = [_fmt(r.get(s, {}).get("release_seconds"), ".3f") for s in ours_systems]
            rss = [_fmt(r.get(s, {}).get("peak_rss_mb"), ".0f") for s in OURS_MAIN]
            lines.append(f"| {n:,} | " + " | ".join(cells) + " | " + " | ".join(rss) + " |")
        print("\n" + "\n".join(lines))
        (RESULTS / "scaling.md").write_text("\n".join(lines) + "\n")
    out = plot()
    if out:
        print(f"\nplot: {out.relative_to(ROOT)}")
    if not args.keep_db:
        for n in loaded:
            if any(s.endswith("postgres") for s in systems):
                drop_pg(args.pg, n)
            Path(sqlite_url(n).removeprefix("sqlite:///")).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
