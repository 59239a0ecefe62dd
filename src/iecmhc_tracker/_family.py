"""The cells of a family of state tables (tables counting the same activities): every inner
and margin cell once, with its statistics, and each table's layout over them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._table import Coords
from ._tablespec import TableSpec

#: what a cell counts: its table's filters and the sorted (dimension, code) pairs it fixes, or
#: a fine cell's record kind and values
Key = tuple[Any, ...]


class Cells:
    """Stats of every cell (inner and margins) of a family of tables, one row per cell."""

    def __init__(self, measures: Sequence[str]) -> None:
        self.measures = tuple(measures)
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}
        self.records: list[int] = []
        self.units: list[int] = []
        self.sums: list[tuple[float, ...]] = []
        self.tops: list[tuple[float, ...]] = []

    def add(self, key: Key, stat: tuple[int, int, tuple[float, ...], tuple[float, ...]]) -> int:
        if key not in self.index:
            self.index[key] = len(self.keys)
            self.keys.append(key)
            self.records.append(stat[0])
            self.units.append(stat[1])
            self.sums.append(stat[2])
            self.tops.append(stat[3])
        return self.index[key]

    def __len__(self) -> int:
        return len(self.keys)


class Layout:
    """One table of a family: its coordinates (inner cells, then margins) and their cells."""

    def __init__(self, spec: TableSpec, coords: list[Coords], cells: list[int]) -> None:
        self.spec = spec
        self.coords = coords
        self.cells = cells
