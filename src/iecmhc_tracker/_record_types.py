"""The three record types a tracker stores (activities, engagements, requests): telling
them apart, checking each under its rules, and importing a mix of them all-or-nothing.

A mapping names its type by ``"type"`` (``"activity"`` when absent); an object is its own
type. An all-activity list takes the tuned streaming import of ``Tracker.record_many``; any
other input comes here, batch by batch, one transaction per batch.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._columns import Row
from ._engagement import Engagement
from ._engagement_rules import examine_engagement, examine_request
from ._errors import Problem
from ._model import Activity
from ._profile import Profile
from ._record_rows import engagement_row, request_row
from ._request import Request
from ._rows import row_builder
from ._validate import examiner
from .stores import Store

AnyRecord = Activity | Engagement | Request
TYPES: tuple[str, ...] = ("activity", "engagement", "request")
_OBJECTS: dict[type, str] = {Activity: "activity", Engagement: "engagement", Request: "request"}


@attrs.frozen(slots=True)
class RecordTypes:
    """Checks and rows of every record type, under one profile."""

    profile: Profile

    @classmethod
    def of(cls, profile: Profile) -> RecordTypes:
        return profile.derived("record_types", cls)

    @staticmethod
    def kind_of(record: Any) -> tuple[str, Any]:
        """The record's type and the record to check (a mapping without its ``type``)."""
        kind = _OBJECTS.get(type(record))
        if kind is not None:
            return kind, record
        if isinstance(record, Mapping) and "type" in record:
            named = record["type"]
            if named in TYPES:
                return named, {k: v for k, v in record.items() if k != "type"}
        return "activity", record

    def examine(self, kind: str, record: Any, today: dt.date) -> tuple[Any, list[Problem]]:
        if kind == "engagement":
            return examine_engagement(record, self.profile, today)
        if kind == "request":
            return examine_request(record, self.profile, today)
        if isinstance(record, Mapping) and "type" in record:
            return None, [Problem("type", "unknown_code", f"must be one of {', '.join(TYPES)}")]
        return examiner(self.profile)(record, today)

    def row(self, kind: str, record: Any) -> Row:
        if kind == "engagement":
            return engagement_row(record, self.profile)
        if kind == "request":
            return request_row(record, self.profile)
        return row_builder(self.profile)(record)

    def record_many(
        self,
        store: Store,
        records: Iterable[Any],
        today: dt.date,
        batch_size: int | None,
        progress: Callable[[int], None] | None,
    ) -> tuple[int, int, list[Problem], int]:
        """Import a mix of record types; returns (inserted, duplicates, rejected, total)."""
        source = enumerate(records, 1)
        inserted = duplicates = total = 0
        rejected: list[Problem] = []
        while True:
            batch = list(itertools.islice(source, batch_size) if batch_size else source)
            if not batch:
                break
            rows: dict[str, list[Row]] = {}
            numbers: dict[str, int] = {}
            bad: list[Problem] = []
            for number, record in batch:
                kind, data = self.kind_of(record)
                checked, found = self.examine(kind, data, today)
                if found or checked is None:
                    bad.extend(attrs.evolve(p, row=number) for p in found)
                elif not bad:
                    row = self.row(kind, checked)
                    numbers[row["id"]] = number
                    rows.setdefault(kind, []).append(row)
            total = batch[-1][0]
            if bad:
                rejected.extend(bad)
            else:
                ins, dup, conf = store.insert_records(rows)
                if conf:
                    rejected.extend(
                        Problem(
                            "id",
                            "conflict",
                            "already stored with different content",
                            row=numbers.get(cid),
                        )
                        for cid in dict.fromkeys(conf)
                    )
                else:
                    inserted += len(ins)
                    duplicates += len(dup)
            if progress is not None:
                progress(total)
        return inserted, duplicates, rejected, total
