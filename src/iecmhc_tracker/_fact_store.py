"""The store the role views and researcher sessions see: the tracker's own, except that an
aggregate of engagement or request measures reads their fact rows (``_engagement_facts``).

Every other call goes to the tracker's store unchanged, so the budget and publication
ledgers, the data version and the rows stay the one store's. The fact rows are built on the
first read of them and again whenever the store's data version changes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._columns import Row
from ._engagement_facts import fact_rows
from ._measures import FACT_COLUMNS, FACT_KINDS
from ._profile import Profile
from .stores.contract import (
    Cell,
    CellStat,
    Dosage,
    Filters,
    InsertOutcome,
    MeasureSpec,
    PartialSum,
    Store,
)
from .stores.memory import MemoryStore


class FactStore:
    """A :class:`Store` over ``store`` whose engagement and request aggregates read facts."""

    def __init__(self, store: Store, profile: Profile, today: Callable[[], dt.date]) -> None:
        self.inner = store
        self.url = store.url
        self._profile, self._today = profile, today
        self._built: tuple[int, MemoryStore] | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # what a store offers beyond the protocol
        return getattr(self.inner, name)

    def _reads_facts(self, measures: Sequence[MeasureSpec], filters: Filters) -> bool:
        """Whether a read is of fact rows: its ``kind`` filter says so, or without one, all
        its measures are of engagements and requests (counts of rows and units aside)."""
        kinds = filters.get("kind")
        if kinds is not None:
            named = [kinds] if isinstance(kinds, str) else list(kinds)
            return bool(named) and all(k in FACT_KINDS for k in named)
        own = [c for c, _ in measures if c not in ("*", "#units")]
        return bool(own) and all(c in FACT_COLUMNS for c in own)

    def _facts(self) -> MemoryStore:
        version = self.inner.data_version()
        with self._lock:
            if self._built is None or self._built[0] != version:
                s = self.inner
                facts = MemoryStore("facts://")
                rows = fact_rows(
                    self._profile,
                    s.records("engagement"),
                    s.records("request"),
                    s.dosage(),
                    self._today(),
                )
                facts.insert(rows)
                self._built = (version, facts)
            return self._built[1]

    # -- aggregates: facts or the store's (the other's measures read as 0) ---------------
    def partial_sums(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[PartialSum]:
        if self._reads_facts(measures, filters):
            return self._facts().partial_sums(unit, dims, measures, filters)
        own, fill = _own(measures)
        if fill is None:
            return self.inner.partial_sums(unit, dims, measures, filters)
        got = [
            (u, c, n, fill(v)) for u, c, n, v in self.inner.partial_sums(unit, dims, own, filters)
        ]
        if "kind" in dims and "kind" not in filters:
            # one read for a release's every table (``_suppress.read_partials``): the fact
            # rows' sums beside the activities', told apart by their kind
            theirs, put = _own(measures, facts=True)
            got += [
                (u, c, n, put(v) if put else tuple(v))
                for u, c, n, v in self._facts().partial_sums(unit, dims, theirs, filters)
            ]
        return got

    def cell_stats(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]:
        if self._reads_facts(measures, filters):
            return self._facts().cell_stats(unit, dims, measures, filters)
        own, fill = _own(measures)
        if fill is None:
            return self.inner.cell_stats(unit, dims, measures, filters)
        return [
            (c, n, k, fill(v), fill(t))
            for c, n, k, v, t in self.inner.cell_stats(unit, dims, own, filters)
        ]

    def bounded_sums(
        self,
        unit: str,
        dims: Sequence[str],
        measures: Sequence[MeasureSpec],
        filters: Filters,
        *,
        clip: Sequence[float],
        norm: str | None,
        norm_bounds: Sequence[float],
        max_cells: int | None,
    ) -> list[tuple[Cell, tuple[float, ...]]]:
        opts: dict[str, Any] = {"norm": norm, "max_cells": max_cells}
        if self._reads_facts(measures, filters):
            return self._facts().bounded_sums(
                unit, dims, measures, filters, clip=clip, norm_bounds=norm_bounds, **opts
            )
        own, fill = _own(measures)
        if fill is None:
            return self.inner.bounded_sums(
                unit, dims, measures, filters, clip=clip, norm_bounds=norm_bounds, **opts
            )
        keep = [j for j, (c, _) in enumerate(measures) if c not in FACT_COLUMNS]
        got = self.inner.bounded_sums(
            unit,
            dims,
            own,
            filters,
            clip=[clip[j] for j in keep],
            norm_bounds=[norm_bounds[j] for j in keep] if norm_bounds else norm_bounds,
            **opts,
        )
        return [(c, fill(v)) for c, v in got]

    # -- everything else: the store's ----------------------------------------------------
    def insert(self, rows: Iterable[Row], *, atomic: bool = True) -> InsertOutcome:
        return self.inner.insert(rows, atomic=atomic)

    def get(self, id: str) -> Row | None:
        return self.inner.get(id)

    def rows(
        self,
        *,
        consultant: str | None = None,
        program: str | None = None,
        include_deleted: bool = False,
    ) -> list[Row]:
        return self.inner.rows(
            consultant=consultant, program=program, include_deleted=include_deleted
        )

    def amend(self, id: str, row: Row, *, by: str, at: Any) -> None:
        self.inner.amend(id, row, by=by, at=at)

    def delete(self, id: str, *, by: str, at: Any) -> None:
        self.inner.delete(id, by=by, at=at)

    def insert_records(
        self, batch: Mapping[str, Iterable[Row]], *, atomic: bool = True
    ) -> InsertOutcome:
        return self.inner.insert_records(batch, atomic=atomic)

    def records(
        self,
        kind: str,
        *,
        consultant: str | None = None,
        program: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Row]:
        return self.inner.records(kind, consultant=consultant, program=program, ids=ids)

    def dosage(self, ids: Sequence[str] | None = None) -> Dosage:
        return self.inner.dosage(ids)

    def charge(
        self,
        analyst: str,
        partitions: Sequence[str],
        amount: float,
        *,
        allotment: float,
        cap: float,
        entry: Mapping[str, Any],
    ) -> dict[str, float]:
        return self.inner.charge(
            analyst, partitions, amount, allotment=allotment, cap=cap, entry=entry
        )

    def spent(self, analyst: str | None, partition: str) -> float:
        return self.inner.spent(analyst, partition)

    def ledger(self, analyst: str) -> list[dict[str, Any]]:
        return self.inner.ledger(analyst)

    def publish(self, entry: Mapping[str, Any]) -> int:
        return self.inner.publish(entry)

    def publications(self) -> list[dict[str, Any]]:
        return self.inner.publications()

    def data_version(self) -> int:
        return self.inner.data_version()

    def close(self) -> None:
        self.inner.close()


def _own(
    measures: Sequence[MeasureSpec], *, facts: bool = False
) -> tuple[list[MeasureSpec], Callable[[Sequence[float]], tuple[float, ...]] | None]:
    """The measures the store holds (the fact rows, with ``facts``; counts of rows on both
    sides), and how to put 0 back for the others (None: all held)."""
    keep = [j for j, (c, _) in enumerate(measures) if c == "*" or (c in FACT_COLUMNS) == facts]
    if len(keep) == len(measures):
        return list(measures), None
    width = len(measures)

    def fill(values: Sequence[float]) -> tuple[float, ...]:
        out = [0.0] * width
        for j, v in zip(keep, values, strict=True):
            out[j] = v
        return tuple(out)

    return [measures[j] for j in keep], fill
