"""A release's per-(unit, cell) partial sums read once, as arrays: the numbers per unit that
``bounds="auto"`` chooses its bounds from, and the bounded cell totals the release then adds
noise to, from the same read.

The bounding is the arithmetic of ``stores.bounding.bound_partials`` (the reference the
SQL stores are tested against) in numpy: clip every partial sum to ``[0, c_j]``; then, per
unit, keep at most ``max_cells`` cells chosen at random (``"max_cells"``) or scale its vector
of measure ``j`` by ``min(1, B_j / ‖v‖)`` (``"l1"``, ``"l2"``). No unit's bounding depends on
another unit's data, so the sensitivities of ``_dp`` hold as they do for the store's.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from .stores import PartialSum

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


@attrs.frozen(slots=True, eq=False)
class UnitCells:
    """Row ``i``: unit ``unit[i]`` (0 .. ``n_units - 1``) put ``sums[i, j]`` of measure ``j``
    into public cell ``cell[i]`` (an index into the release's keys)."""

    unit: Ints
    cell: Ints
    sums: Floats
    n_units: int
    n_cells: int

    @classmethod
    def read(
        cls, partials: Sequence[PartialSum], keys: Sequence[tuple[Any, ...]], k: int
    ) -> UnitCells:
        """The partials whose cell is one of ``keys`` (``k`` measures)."""
        index = {tuple(key): i for i, key in enumerate(keys)}
        units: dict[str, int] = {}
        unit, cell, sums = [], [], []
        for u, c, _n, vals in partials:
            at = index.get(tuple(c))
            if at is None:
                continue
            unit.append(units.setdefault(u, len(units)))
            cell.append(at)
            sums.append(vals)
        return cls(
            unit=np.asarray(unit, dtype=np.intp),
            cell=np.asarray(cell, dtype=np.intp),
            sums=np.asarray(sums, dtype=np.float64).reshape(len(unit), k),
            n_units=len(units),
            n_cells=len(keys),
        )

    def per_unit(self, stat: str) -> list[Floats]:
        """Per measure, one number per unit: its L1 or L2 norm over cells (``"l1"``,
        ``"l2"``) or its largest cell (``"max"``), of its partial sums raised to 0."""
        pos = np.maximum(self.sums, 0.0)
        out = []
        for j in range(self.sums.shape[1]):
            acc = np.zeros(self.n_units)
            if stat == "l1":
                np.add.at(acc, self.unit, pos[:, j])
            elif stat == "l2":
                np.add.at(acc, self.unit, pos[:, j] ** 2)
                acc = np.sqrt(acc)
            else:
                np.maximum.at(acc, self.unit, pos[:, j])
            out.append(acc)
        return out

    def bounded(
        self,
        *,
        clip: Sequence[float],
        norm: str | None,
        norm_bounds: Sequence[float],
        max_cells: int | None,
    ) -> list[list[float]]:
        """Per measure, the sum over units of their bounded contributions to each cell."""
        values = np.clip(self.sums, 0.0, np.asarray(clip, dtype=np.float64))
        keep = np.ones(len(self.unit), dtype=bool)
        if norm == "max_cells" and max_cells is not None:
            keep = self._sample(int(max_cells))
        out = []
        for j in range(values.shape[1]):
            v = np.where(keep, values[:, j], 0.0)
            bound = float(norm_bounds[j])
            if norm in ("l1", "l2") and bound > 0:
                size = np.zeros(self.n_units)
                np.add.at(size, self.unit, np.abs(v) if norm == "l1" else v * v)
                if norm == "l2":
                    size = np.sqrt(size)
                per_row = size[self.unit]
                over = per_row > bound
                v = np.where(over, v * bound / np.where(over, per_row, 1.0), v)
            total = np.zeros(self.n_cells)
            np.add.at(total, self.cell, v)
            out.append([float(x) for x in total])
        return out

    def _sample(self, k: int) -> npt.NDArray[np.bool_]:
        """Per unit, at most ``k`` of its rows, uniformly at random (OS-seeded, independent per
        unit: a random key per row, the unit's ``k`` smallest kept)."""
        rng = np.random.default_rng(secrets.randbits(128))
        key = rng.random(len(self.unit))
        order = np.lexsort((key, self.unit))
        sorted_units = self.unit[order]
        starts = np.searchsorted(sorted_units, sorted_units, side="left")
        rank = np.arange(len(order)) - starts
        keep = np.zeros(len(self.unit), dtype=bool)
        keep[order] = rank < k
        return keep
