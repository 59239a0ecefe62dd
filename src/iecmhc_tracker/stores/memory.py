"""The in-memory store (``memory://``): the reference implementation of the Store contract."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._columns import Row
from .._errors import ConflictError, NotFound, StorageError
from .bounding import bound_partials, cell_stats_from_partials
from .contract import (
    RECORD_KINDS,
    STAMP_KEYS,
    Cell,
    CellStat,
    Dosage,
    Filters,
    InsertOutcome,
    InsertScreen,
    MeasureSpec,
    PartialSum,
    check_partitions,
    date_ranges,
    refusal,
)


class MemoryStore:
    """Keeps everything in a dict; lost when the process ends. Thread-safe."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._rows: dict[str, Row] = {}
        #: engagements and requests: record type -> id -> row
        self._records: dict[str, dict[str, Row]] = {kind: {} for kind in RECORD_KINDS}
        self._ledger: list[dict[str, Any]] = []
        self._publications: list[dict[str, Any]] = []
        self._profile: dict[str, Any] | None = None
        #: (analyst, partition) -> the analyst's spend; partition -> everyone's
        self._spend: dict[tuple[str, str], float] = {}
        self._totals: dict[str, float] = {}
        self._version = 0
        self._lock = threading.RLock()
        self._closed = False

    # -- writes ----------------------------------------------------------------------
    def insert(self, rows: Iterable[Row], *, atomic: bool = True) -> InsertOutcome:
        with self._lock:
            self._check_open()
            screen = InsertScreen(self._stored_hash)
            pending = list(screen.first_seen(rows))
            inserted, duplicates, conflicts = screen.inserted, screen.duplicates, screen.conflicts
            if conflicts and atomic:
                return [], duplicates, conflicts
            now = _now()
            for row in pending:
                stored = copy.deepcopy(row)
                stored.update(
                    recorded_at=now,
                    updated_at=None,
                    updated_by=None,
                    deleted_at=None,
                    deleted_by=None,
                )
                self._rows[row["id"]] = stored
            if pending:
                self._version += 1
            return inserted, duplicates, conflicts

    def insert_records(
        self, batch: Mapping[str, Iterable[Row]], *, atomic: bool = True
    ) -> InsertOutcome:
        with self._lock:
            self._check_open()
            for kind in batch:
                if kind != "activity" and kind not in self._records:
                    raise ValueError(f"unknown record type {kind!r}")
            plans = []
            outcome: InsertOutcome = ([], [], [])
            for kind, rows in batch.items():
                stored = self._rows if kind == "activity" else self._records[kind]
                screen = InsertScreen(lambda i, s=stored: _hash_of(s, i))  # type: ignore[misc]
                plans.append((kind, list(screen.first_seen(rows))))
                outcome[0].extend(screen.inserted)
                outcome[1].extend(screen.duplicates)
                outcome[2].extend(screen.conflicts)
            if outcome[2] and atomic:
                return [], outcome[1], outcome[2]
            now = _now()
            for kind, pending in plans:
                if kind == "activity":
                    self.insert(pending)
                    continue
                for row in pending:
                    self._records[kind][row["id"]] = {**copy.deepcopy(row), "recorded_at": now}
                if pending:
                    self._version += 1
            return outcome

    def records(
        self,
        kind: str,
        *,
        consultant: str | None = None,
        program: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Row]:
        with self._lock:
            self._check_open()
            if kind not in self._records:
                raise ValueError(f"unknown record type {kind!r}")
            wanted = None if ids is None else {str(i) for i in ids}
            out = [
                {k: v for k, v in copy.deepcopy(r).items() if k != "recorded_at"}
                for r in self._records[kind].values()
                if (consultant is None or r.get("consultant") == consultant)
                and (program is None or r.get("program") == program)
                and (wanted is None or r["id"] in wanted)
            ]
        out.sort(key=lambda r: r["id"])
        return out

    def dosage(self, ids: Sequence[str] | None = None) -> Dosage:
        wanted = None if ids is None else {str(i) for i in ids}
        with self._lock:
            self._check_open()
            out: Dosage = {}
            for r in self._rows.values():
                eid = r.get("engagement")
                if eid is None or r["deleted_at"] is not None:
                    continue
                if wanted is not None and eid not in wanted:
                    continue
                hours, n, first, last = out.get(eid, (0.0, 0, r["date"], r["date"]))
                out[eid] = (
                    hours + float(r["hours"] or 0.0),
                    n + 1,
                    min(first, r["date"]),
                    max(last, r["date"]),
                )
            return out

    def _stored_hash(self, id: str) -> str | None:
        row = self._rows.get(id)
        return None if row is None else str(row["content_hash"])

    def amend(self, id: str, row: Row, *, by: str, at: Any) -> None:
        with self._lock:
            old = self._live(id)
            new = copy.deepcopy(row)
            new.update(
                recorded_at=old["recorded_at"],
                updated_at=at,
                updated_by=by,
                deleted_at=None,
                deleted_by=None,
            )
            self._rows[id] = new
            self._version += 1

    def delete(self, id: str, *, by: str, at: Any) -> None:
        with self._lock:
            row = self._live(id)
            row["deleted_at"], row["deleted_by"] = at, by
            self._version += 1

    def restore(self, id: str, *, by: str, at: Any) -> None:
        with self._lock:
            self._check_open()
            row = self._rows.get(id)
            if row is None:
                raise NotFound(f"no stored activity has id {id}")
            if row["deleted_at"] is None:
                raise ConflictError(f"activity {id} is not deleted; there is nothing to restore")
            row.update(deleted_at=None, deleted_by=None, updated_at=at, updated_by=by)
            self._version += 1

    def _live(self, id: str) -> Row:
        self._check_open()
        row = self._rows.get(id)
        if row is None or row["deleted_at"] is not None:
            raise NotFound(f"no stored activity has id {id}")
        return row

    # -- reads -----------------------------------------------------------------------
    def get(self, id: str) -> Row | None:
        with self._lock:
            self._check_open()
            row = self._rows.get(id)
            return copy.deepcopy(row) if row is not None else None

    def rows(
        self,
        *,
        consultant: str | None = None,
        program: str | None = None,
        include_deleted: bool = False,
    ) -> list[Row]:
        if (consultant is None) == (program is None):
            raise ValueError("give exactly one of consultant= or program=")
        with self._lock:
            self._check_open()
            key, value = (
                ("consultant", consultant) if consultant is not None else ("program", program)
            )
            out = [
                copy.deepcopy(r)
                for r in self._rows.values()
                if r[key] == value and (include_deleted or r["deleted_at"] is None)
            ]
        out.sort(key=lambda r: (r["date"], r["id"]))
        return out

    def partial_sums(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[PartialSum]:
        with self._lock:
            self._check_open()
            live = [r for r in self._rows.values() if r["deleted_at"] is None]
        acc: dict[tuple[str, Cell], list[Any]] = {}
        for row in live:
            uid = row[unit]
            if uid is None or not _matches(row, filters):
                continue
            for rec in _records(row, dims, filters):
                cell = tuple(rec[d] for d in dims)
                slot = acc.setdefault((uid, cell), [0, [0.0] * len(measures)])
                slot[0] += 1
                for j, (column, kinds) in enumerate(measures):
                    if kinds and rec["kind"] not in kinds:
                        continue
                    if column == "*":
                        slot[1][j] += 1.0
                    elif column == "#units":
                        slot[1][j] = 1.0
                    else:
                        slot[1][j] += float(rec[column] or 0)
        return [(u, c, n, tuple(v)) for (u, c), (n, v) in acc.items()]

    def cell_stats(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]:
        return cell_stats_from_partials(
            self.partial_sums(unit, dims, measures, filters), len(measures)
        )

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
        return bound_partials(
            self.partial_sums(unit, dims, measures, filters),
            clip=clip,
            norm=norm,
            norm_bounds=norm_bounds,
            max_cells=max_cells,
        )

    # -- ledger ----------------------------------------------------------------------
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
        parts = check_partitions(partitions)
        with self._lock:
            self._check_open()
            mine = {p: self._spend.get((analyst, p), 0.0) for p in parts}
            everyone = {p: self._totals.get(p, 0.0) for p in parts}
            refused = refusal(analyst, amount, allotment, cap, mine, everyone)
            if refused is not None:
                raise refused
            for p in parts:
                self._spend[(analyst, p)] = mine[p] + amount
                self._totals[p] = everyone[p] + amount
            self._ledger.append(
                {
                    "analyst": analyst,
                    "partitions": list(parts),
                    "amount": float(amount),
                    "at": _now(),
                    "entry": copy.deepcopy(dict(entry)),
                }
            )
            return {p: mine[p] + amount for p in parts}

    def spent(self, analyst: str | None, partition: str) -> float:
        with self._lock:
            self._check_open()
            if analyst is None:
                return self._totals.get(partition, 0.0)
            return self._spend.get((analyst, partition), 0.0)

    def ledger(self, analyst: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ledger if e["analyst"] == analyst]

    def publish(self, entry: Mapping[str, Any]) -> int:
        text = json.dumps(dict(entry), sort_keys=True, default=str)  # JSON-able, as persisted
        with self._lock:
            self._check_open()
            self._publications.append({"at": _now(), "entry": json.loads(text)})
            return len(self._publications)

    def publications(self) -> list[dict[str, Any]]:
        with self._lock:
            self._check_open()
            return [
                {"seq": i, "at": p["at"], "entry": copy.deepcopy(p["entry"])}
                for i, p in enumerate(self._publications, 1)
            ]

    def profile_stamp(self) -> dict[str, Any] | None:
        with self._lock:
            self._check_open()
            return None if self._profile is None else dict(self._profile)

    def stamp_profile(self, stamp: Mapping[str, str], *, replace: bool = False) -> dict[str, Any]:
        with self._lock:
            self._check_open()
            if self._profile is None or replace:
                self._profile = {**{k: str(stamp[k]) for k in STAMP_KEYS}, "at": _now()}
            return dict(self._profile)

    def data_version(self) -> int:
        return self._version

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store is closed; open the tracker again")


def _hash_of(stored: Mapping[str, Row], id: str) -> str | None:
    row = stored.get(id)
    return None if row is None else str(row["content_hash"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _matches(row: Row, filters: Filters) -> bool:
    for key, allowed in filters.items():
        if key == "date_from":
            if row["date"] < dt.date.fromisoformat(str(allowed)):
                return False
        elif key == "date_to":
            if row["date"] > dt.date.fromisoformat(str(allowed)):
                return False
        elif key == "date_in":
            if not any(lo <= row["date"] <= hi for lo, hi in date_ranges(allowed)):
                return False
        elif key.startswith("extra."):
            name = key[len("extra.") :]
            if not any(f"|{name}={v}|" in (row["tags"] or "") for v in _values(allowed)):
                return False
        elif key == "resource_type":
            continue  # applied per referral in _records
        elif row[key] not in _values(allowed):
            return False
    return True


def _values(allowed: Sequence[Any] | str) -> list[Any]:
    return [allowed] if isinstance(allowed, str) else list(allowed)


def _records(row: Row, dims: Sequence[str], filters: Filters) -> list[Row]:
    """A row, or with referral resource types in play, one record per referral."""
    if "resource_type" not in dims and "resource_type" not in filters:
        return [row]
    allowed = _values(filters["resource_type"]) if "resource_type" in filters else None
    return [
        {**row, "resource_type": code, "referral_total": count}
        for code, count in sorted(row["referrals"].items())
        if allowed is None or code in allowed
    ]
