"""Cell statistics of every grouping a release needs, from one store read per record kind.

A release asks for the stats of many groupings of the same records: each table's cells and
every margin level, and the fine cells that link them (``_suppress``). Asking the store for
each (a dozen calls, each reading every activity of the memory store) cost more than the
suppression itself. Instead the store is read once per record kind, as per-(consultant, fine
cell) partial sums (``Store.partial_sums``), and each grouping is summed from those in numpy:
records, distinct consultants, sums and the largest consultant's share come out exactly as
``Store.cell_stats`` gives them, since every grouping is a union of fine cells. One read is
also one snapshot: every table of the release counts the same data.

A grouping the partial sums cannot answer (a filter on a field that is not a fine dimension,
such as an extra field or a date range; a measure of some kinds without ``kind`` among the
dimensions; a distinct count) is asked of the store as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .stores import CellStat, Store
from .stores.contract import Filters, MeasureSpec


def _allowed(value: Sequence[Any] | str) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


class Partials:
    """One record kind's per-(unit, fine cell) partial sums, read once: ``cell_stats`` of any
    subset of ``dims`` under filters on them, without another store read."""

    def __init__(
        self,
        store: Store,
        unit: str,
        dims: Sequence[str],
        columns: Sequence[str],
        base: Filters,
    ) -> None:
        self.store, self.unit = store, unit
        self.dims = tuple(dims)
        self.columns = tuple(c for c in dict.fromkeys(columns) if c != "#units")
        self.base = {k: _allowed(v) for k, v in base.items()}
        rows = store.partial_sums(unit, self.dims, [(c, ()) for c in self.columns], base)
        self.size = len(rows)
        # each dimension's values, coded as small integers in order of first sight
        self.values: list[list[Any]] = []
        codes = []
        for d in range(len(self.dims)):
            index: dict[Any, int] = {}
            codes.append([index.setdefault(r[1][d], len(index)) for r in rows])
            self.values.append(list(index))
        self.codes = np.array(codes, dtype=np.int64).reshape(len(self.dims), self.size)
        units: dict[str, int] = {}
        self.units = np.array([units.setdefault(r[0], len(units)) for r in rows], dtype=np.int64)
        self.n = np.array([r[2] for r in rows], dtype=np.int64)
        self.sums = np.array([r[3] for r in rows], dtype=float).reshape(
            self.size, len(self.columns)
        )

    def answers(self, measures: Sequence[MeasureSpec], filters: Filters) -> bool:
        """Whether these partial sums give ``cell_stats(dims ⊆ self.dims, measures,
        filters)`` exactly: the filters are on fine dimensions and narrow the base read's, the
        measures are its columns (of some kinds only when ``kind`` is a dimension)."""
        if any(k not in self.dims for k in filters):
            return False
        for k, allowed in self.base.items():
            # the base read's own filters must be repeated (e.g. per-referral records)
            if k not in filters or not set(_allowed(filters[k])) <= set(allowed):
                return False
        return all(
            col in self.columns and (not kinds or "kind" in self.dims) for col, kinds in measures
        )

    def cell_stats(
        self, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]:
        """``Store.cell_stats(unit, dims, measures, filters)``, from the partial sums when
        they answer it (see ``answers``), else from the store."""
        if not self.answers(measures, filters) or any(d not in self.dims for d in dims):
            return self.store.cell_stats(self.unit, dims, measures, filters)
        keep = np.ones(self.size, dtype=bool)
        for key, allowed in filters.items():
            d = self.dims.index(key)
            ok = [i for i, v in enumerate(self.values[d]) if v in set(_allowed(allowed))]
            keep &= np.isin(self.codes[d], ok)
        rows = np.flatnonzero(keep)
        at = [self.dims.index(d) for d in dims]
        # a cell: its dimensions' codes in mixed radix
        cell = np.zeros(len(rows), dtype=np.int64)
        for d in at:
            cell = cell * len(self.values[d]) + self.codes[d][rows]
        vals = np.zeros((len(rows), len(measures)))
        for j, (col, kinds) in enumerate(measures):
            v = self.sums[rows, self.columns.index(col)]
            if kinds:
                k = self.dims.index("kind")
                ok = [i for i, x in enumerate(self.values[k]) if x in set(kinds)]
                v = np.where(np.isin(self.codes[k][rows], ok), v, 0.0)
            vals[:, j] = v
        # per (unit, cell) first: a unit's share of a cell is the sum over its fine cells
        ncells = int(cell.max()) + 1 if len(cell) else 1
        pair, inv = np.unique(self.units[rows] * ncells + cell, return_inverse=True)
        n = np.bincount(inv, weights=self.n[rows], minlength=len(pair))
        part = np.zeros((len(pair), len(measures)))
        np.add.at(part, inv, vals)
        cells, cinv = np.unique(pair % ncells, return_inverse=True)
        records = np.bincount(cinv, weights=n, minlength=len(cells))
        units = np.bincount(cinv, minlength=len(cells))
        sums = np.zeros((len(cells), len(measures)))
        tops = np.zeros((len(cells), len(measures)))
        np.add.at(sums, cinv, part)
        np.maximum.at(tops, cinv, part)
        return [
            (self._cell(int(c), at), int(r), int(u), tuple(map(float, s)), tuple(map(float, t)))
            for c, r, u, s, t in zip(cells, records, units, sums, tops, strict=True)
        ]

    def _cell(self, code: int, at: Sequence[int]) -> tuple[Any, ...]:
        out = []
        for d in reversed(at):
            size = len(self.values[d])
            out.append(self.values[d][code % size])
            code //= size
        return tuple(reversed(out))
