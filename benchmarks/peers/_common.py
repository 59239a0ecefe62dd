"""What every peer runner shares: the release's parameters, arguments, and the JSON it prints.

Runners run inside the peers' own virtual environments, so this module uses the standard library
only and never imports ``iecmhc_tracker``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

# The one release every system runs (issue 9): DP count of activities and DP sum of hours per
# cell (county x consultation_type x fiscal_year), privacy unit = consultant.
KEYS = ["county", "consultation_type", "fiscal_year"]
MAX_CELLS = 12  # cells (partitions) per consultant
MAX_ROWS = 300  # rows per consultant per cell
HOURS_LOWER, HOURS_UPPER = 0.0, 8.0  # per-row clip of hours
EPSILON = 1.0  # total for the release
# pure-ε Laplace split evenly; L1 sensitivities under the bounds above
EPS_COUNT = EPS_HOURS = EPSILON / 2
SENS_COUNT = MAX_CELLS * MAX_ROWS  # 3600
SENS_HOURS = MAX_CELLS * MAX_ROWS * HOURS_UPPER  # 28800


def peak_rss_mb() -> float | None:
    """This process's own peak resident memory, in MB.

    ``VmHWM`` of the running program: ``ru_maxrss`` would also count the parent's memory,
    which Linux carries over into a child started by fork/vfork and exec (the harness holds
    the whole data set in memory when it starts a runner)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - not on a Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="activities Parquet file")
    ap.add_argument("--keys", required=True, help="JSON list of the public [county, type, fy] keys")
    ap.add_argument("--sqlite", help="SQLite file with the same rows in table `activities`")
    return ap.parse_args()


def load_keys(path: str) -> list[tuple[str, str, int]]:
    with open(path) as f:
        return [(c, t, int(y)) for c, t, y in json.load(f)]


class Clock:
    """Wall-clock phases of one run: ``with clock("release"): ...``."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def __call__(self, name: str) -> _Phase:
        return _Phase(self, name)


class _Phase:
    def __init__(self, clock: Clock, name: str) -> None:
        self.clock, self.name = clock, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        self.cpu = time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.clock.phases[self.name] = time.perf_counter() - self.start
        # this process's CPU (all threads; not a server's or a JVM's): robust to a busy machine
        self.clock.phases[self.name + "_cpu"] = time.process_time() - self.cpu


def run(
    system: str, body: Callable[[argparse.Namespace, Clock, dict[str, Any]], list[Any]]
) -> None:
    """Run ``body`` and print one JSON line: timings, cells [county, type, fy, count, hours], error.

    ``body`` fills ``info`` with anything worth reporting (versions, mechanism, caveats) and
    returns the released cells. Any exception is reported with the peer's own message.
    """
    args = parse_args()
    clock = Clock()
    info: dict[str, Any] = {}
    out: dict[str, Any] = {"system": system, "ok": False, "error": None, "cells": [], "info": info}
    try:
        out["cells"] = [list(c) for c in body(args, clock, info)]
        out["ok"] = True
    except BaseException as e:  # report, never hide: the peer's own message is the result
        out["error"] = f"{type(e).__name__}: {e}".strip()[:2000]
        info["traceback"] = traceback.format_exc()[-4000:]
    out["phases"] = clock.phases
    out["release_seconds"] = clock.phases.get("release")
    out["release_cpu_seconds"] = clock.phases.get("release_cpu")
    out["total_seconds"] = time.perf_counter() - clock.t0
    out["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n@@RESULT@@" + json.dumps(out) + "\n")
