"""Contribution bounding over per-unit partial sums, in plain Python.

The reference the SQL stores are tested against, and what the memory store uses. SQL stores
do the same arithmetic inside the database.
"""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .contract import Cell, CellStat, PartialSum


def cell_stats_from_partials(partials: Iterable[PartialSum], n_measures: int) -> list[CellStat]:
    records: dict[Cell, int] = defaultdict(int)
    units: dict[Cell, int] = defaultdict(int)
    sums: dict[Cell, list[float]] = {}
    tops: dict[Cell, list[float]] = {}
    for _unit, cell, n, vals in partials:
        records[cell] += n
        units[cell] += 1
        s = sums.setdefault(cell, [0.0] * n_measures)
        t = tops.setdefault(cell, [0.0] * n_measures)
        for j, v in enumerate(vals):
            s[j] += v
            t[j] = max(t[j], v)
    return [(c, records[c], units[c], tuple(sums[c]), tuple(tops[c])) for c in sums]


def bound_partials(
    partials: Iterable[PartialSum],
    *,
    clip: Sequence[float],
    norm: str | None,
    norm_bounds: Sequence[float],
    max_cells: int | None,
) -> list[tuple[Cell, tuple[float, ...]]]:
    by_unit: dict[str, list[tuple[Cell, list[float]]]] = defaultdict(list)
    for unit, cell, _n, vals in partials:
        clipped = [min(max(v, 0.0), clip[j]) for j, v in enumerate(vals)]
        by_unit[unit].append((cell, clipped))
    out: dict[Cell, list[float]] = {}
    m = len(clip)
    for cells in by_unit.values():
        if norm == "max_cells" and max_cells is not None and len(cells) > max_cells:
            cells = _sample(cells, max_cells)
        if norm in ("l1", "l2"):
            for j in range(m):
                if norm == "l1":
                    size = sum(abs(v[j]) for _, v in cells)
                else:
                    size = math.sqrt(sum(v[j] ** 2 for _, v in cells))
                if size > norm_bounds[j] > 0:
                    factor = norm_bounds[j] / size
                    for _, v in cells:
                        v[j] *= factor
        for cell, v in cells:
            acc = out.setdefault(cell, [0.0] * m)
            for j in range(m):
                acc[j] += v[j]
    return [(c, tuple(v)) for c, v in out.items()]


def _sample(cells: list[tuple[Cell, list[float]]], k: int) -> list[tuple[Cell, list[float]]]:
    # OS-seeded, independent per unit: a unit's choice never depends on another unit's data
    rng = secrets.SystemRandom()
    return rng.sample(cells, k)
