"""The storage contract. A backend speaks rows and per-unit partial sums, never queries or
releases: everything above this line (roles, suppression, noise) is the library's, everything
below it (SQL, files, memory) is the backend's.

Contract, for every implementation
----------------------------------

Rows
    A row is a ``dict`` whose keys are :data:`~iecmhc_tracker._columns.ROW_COLUMNS` plus
    ``"referrals"`` (``dict`` resource type -> count). ``id`` is the canonical UUID string;
    ``date`` a :class:`datetime.date`; ``hours`` a ``float`` or ``None``. Rows handed to a store
    are already validated. A store returns rows with the same keys and values it was given, plus
    ``recorded_at``, ``updated_at``, ``updated_by``, ``deleted_at`` and ``deleted_by``.

``insert(rows, *, atomic=True) -> (inserted, duplicates, conflicts)``
    Idempotent on ``id``. A row whose id is stored (or appears earlier in the same batch) with
    the same ``content_hash`` is a *duplicate* and is not written again; with another hash it
    is a *conflict* and is never written over the stored one. With ``atomic=True`` a batch
    with any conflict writes nothing (the lists still say what would have happened); the
    whole batch is one transaction either way, so a crash leaves all of it or none.
    Returns three lists of ids. ``rows`` may be any iterable, a generator included, and is
    read once; an exception raised while reading it writes nothing and propagates as it is.
    A store may plan by ``operator.length_hint(rows)`` (a list's length; the hint of a
    ``record_many`` batch) but must not rely on it being given or exact.

``get(id)``, ``rows(consultant=..., program=..., include_deleted=False)``
    One row or ``None``; or the live rows of one consultant or one program (exactly one of
    the two must be given), ordered by ``(date, id)``.

``amend(id, row, *, by, at)`` / ``delete(id, *, by, at)``
    Replace a live row's content (same id) or mark it deleted, keeping who and when.
    ``NotFound`` when no live row has that id. Deleted rows never count in aggregates.

``restore(id, *, by, at)``
    Bring a deleted row back with the content it had: it counts in aggregates again,
    ``deleted_at``/``deleted_by`` are cleared and ``updated_at``/``updated_by`` say who
    restored it and when. ``NotFound`` when no row has that id, ``ConflictError`` when the
    row is live (there is nothing to restore).

Aggregation (what every release is built on; rows never leave the store for it)
    ``dims`` are names from :data:`~iecmhc_tracker._columns.DIMENSION_COLUMNS` or
    ``"resource_type"``. ``measures`` are ``(column, kinds)`` pairs: the per-row value is the
    column's value (``NULL`` -> 0), or 1 when ``column`` is ``"*"``, counted only on rows whose
    ``kind`` is in ``kinds`` (every row when ``kinds`` is empty). ``column == "#units"`` is 1
    per (unit, cell) — the distinct count of units. With ``"resource_type"`` among ``dims``
    each (row, referral) pair is a record and ``referral_total`` is that referral's count.
    ``filters`` map a dimension column to the values it may take, ``"date_from"`` /
    ``"date_to"`` to an inclusive ISO date, ``"date_in"`` to a list of ``[from, to]`` pairs
    of ISO dates (inclusive ranges: a row counts when its date lies in any of them; an empty
    list keeps no row; :func:`date_ranges` reads it), and ``"extra.NAME"`` to values of an
    extra field (matched in ``tags``). A store that answers from totals kept per cell (no
    dates in them) must read the rows for a ``date_in`` filter, as for ``date_from``.
    ``unit`` is ``"consultant"`` or ``"program"`` (rows without a
    program are left out when the unit is the program).

``partial_sums(unit, dims, measures, filters) -> [(unit_id, cell, n_records, sums)]``
    The primitive: one tuple per (unit, cell), ``cell`` a tuple of dimension values and
    ``sums`` a tuple of floats, one per measure.

``cell_stats(unit, dims, measures, filters) -> [(cell, n_records, n_units, sums, top_unit)]``
    Per cell: records, distinct units, the measures' sums, and per measure the largest one
    unit's share of it (``top_unit``: the largest per-unit partial sum). For suppression.

``bounded_sums(unit, dims, measures, filters, *, clip, norm, norm_bounds, max_cells)``
    returns ``[(cell, sums)]``.
    Per cell, the sum over units of each unit's bounded contribution: every per-(unit, cell)
    partial sum of measure ``j`` is first clipped to ``[0, clip[j]]``; then, with
    ``norm="l1"`` (or ``"l2"``), each unit's vector over cells of measure ``j`` is scaled by
    ``min(1, norm_bounds[j] / ||v||)``; with ``norm="max_cells"`` a unit keeps at most
    ``max_cells`` cells, chosen uniformly at random per unit from an OS-seeded source; with
    ``norm=None`` only clipping applies. Cells no unit touches are absent.

Budget ledger (authorisation and charge in one transaction, safe across processes)
    Budgets belong to the data. A *partition* is a string naming a disjoint part of the data
    (the library uses one per fiscal year of data: ``"FY2025"``); an *account* is an analyst
    id (already normalised by the library) or the state's account. Amounts are ε, the one
    currency of the ledger.

    ``charge(analyst, partitions, amount, *, allotment, cap, entry) -> {partition: spent}``
        In ONE transaction, for every partition in ``partitions`` (a non-empty sequence),
        checks that the analyst's spend on it plus ``amount`` stays ``<= allotment`` and
        that everyone's spend on it plus ``amount`` stays ``<= cap`` (each plus 1e-9); if
        every check passes, adds ``amount`` to the analyst's and to everyone's spend on
        every one of the partitions, writes one ledger row (analyst, partitions, amount,
        time, ``entry``) and returns the analyst's new spend per partition. If any check
        fails it raises ``BudgetExceeded`` (``remaining``: the most the charge could have
        been, over all partitions and both limits; ``partition`` and ``limit`` —
        ``"analyst"`` or ``"lifetime"`` — say which ran short) and writes nothing: all or
        nothing. A zero ``amount`` (a cached release) is never refused and is logged.
        Concurrent charges from threads or processes serialise: the sum of what is granted
        never passes either limit, whichever analysts race.
    ``spent(analyst, partition) -> float``
        The analyst's spend on the partition; with ``analyst=None`` everyone's.
    ``ledger(analyst) -> [dict]``
        The analyst's ledger rows, oldest first: ``{"analyst", "partitions", "amount",
        "at", "entry"}`` (``partitions`` a list of strings, ``at`` an aware UTC datetime).

Publication ledger (every state table released)
    ``publish(entry) -> int`` appends ``entry`` (a JSON-able dict: what was published, from
    which data) and returns its sequence number; ``publications() -> [dict]`` every entry,
    oldest first, each as ``{"seq", "at", "entry"}``. Entries are never changed or removed.

Profile stamp (the profile the store's data is recorded under)
    ``profile_stamp() -> dict | None`` the stamp, or ``None`` before one is written: a dict
    of the strings :data:`STAMP_KEYS` (``name``, ``version``, ``digest`` — the profile's
    content digest —, ``source``, where it was read from, and ``text``, its TOML) plus
    ``at``, an aware UTC datetime. ``stamp_profile(stamp, *, replace=False) -> dict`` writes
    ``stamp`` when the store holds none (always, with ``replace``) and returns the stamp the
    store then holds: of two first openers racing, both get the one that was written.

Engagements and requests (the record types of :data:`RECORD_KINDS`)
    Their rows are flat dicts of plain values (``_record_rows`` defines their columns), each
    with an ``id`` and a ``content_hash``; dates are :class:`datetime.date`.
    ``insert_records(batch, *, atomic=True) -> (inserted, duplicates, conflicts)`` takes a
    mapping of record type (``"activity"`` or one of :data:`RECORD_KINDS`) to its rows and
    writes all of them in ONE transaction, each type under the insert rule above; with
    ``atomic=True`` any conflict in any type writes nothing of the batch. ``records(kind,
    *, consultant=None, program=None, ids=None)`` returns the stored rows of one type (all
    of them with no filter; rows of one consultant, one program or the given ids otherwise),
    ordered by ``id``. ``dosage(ids=None) -> {engagement id: (hours, entries, first date,
    last date)}`` sums the live activities linked to each engagement (``engagement`` column).

``data_version() -> int``
    Changes whenever live data changes (insert, amend, delete, restore); equal numbers mean
    equal data.

``close()``
    Release connections and files. A closed store may not be used again.

Every failure of the backend itself surfaces as :class:`StorageError` (or a subclass).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .._columns import Row
from .._errors import BudgetExceeded

#: the keys of a profile stamp (``profile_stamp``), each a string
STAMP_KEYS: tuple[str, ...] = ("name", "version", "digest", "source", "text")

#: slack on every budget comparison (float sums of many charges)
EPS = 1e-9

MeasureSpec = tuple[str, tuple[str, ...]]
Filters = Mapping[str, Sequence[Any] | str]
Cell = tuple[Any, ...]
InsertOutcome = tuple[list[str], list[str], list[str]]
PartialSum = tuple[str, Cell, int, tuple[float, ...]]
CellStat = tuple[Cell, int, int, tuple[float, ...], tuple[float, ...]]
#: the record types a store keeps beside activities
RECORD_KINDS: tuple[str, ...] = ("engagement", "request")
#: per engagement: hours, entries, first and last date of its linked live activities
Dosage = dict[str, tuple[float, int, Any, Any]]


@runtime_checkable
class Store(Protocol):
    """A storage backend; see this module's docstring for the whole contract."""

    url: str

    def insert(self, rows: Iterable[Row], *, atomic: bool = True) -> InsertOutcome: ...

    def get(self, id: str) -> Row | None: ...

    def rows(
        self,
        *,
        consultant: str | None = None,
        program: str | None = None,
        include_deleted: bool = False,
    ) -> list[Row]: ...

    def amend(self, id: str, row: Row, *, by: str, at: Any) -> None: ...

    def delete(self, id: str, *, by: str, at: Any) -> None: ...

    def restore(self, id: str, *, by: str, at: Any) -> None: ...

    def partial_sums(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[PartialSum]: ...

    def cell_stats(
        self, unit: str, dims: Sequence[str], measures: Sequence[MeasureSpec], filters: Filters
    ) -> list[CellStat]: ...

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
    ) -> list[tuple[Cell, tuple[float, ...]]]: ...

    def charge(
        self,
        analyst: str,
        partitions: Sequence[str],
        amount: float,
        *,
        allotment: float,
        cap: float,
        entry: Mapping[str, Any],
    ) -> dict[str, float]: ...

    def spent(self, analyst: str | None, partition: str) -> float: ...

    def ledger(self, analyst: str) -> list[dict[str, Any]]: ...

    def publish(self, entry: Mapping[str, Any]) -> int: ...

    def publications(self) -> list[dict[str, Any]]: ...

    def profile_stamp(self) -> dict[str, Any] | None: ...

    def stamp_profile(
        self, stamp: Mapping[str, str], *, replace: bool = False
    ) -> dict[str, Any]: ...
    def insert_records(
        self, batch: Mapping[str, Iterable[Row]], *, atomic: bool = True
    ) -> InsertOutcome: ...

    def records(
        self,
        kind: str,
        *,
        consultant: str | None = None,
        program: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Row]: ...

    def dosage(self, ids: Sequence[str] | None = None) -> Dosage: ...

    def data_version(self) -> int: ...

    def close(self) -> None: ...


def date_ranges(value: Any) -> list[tuple[dt.date, dt.date]]:
    """A ``date_in`` filter's ranges as dates: ``[[from, to], ...]``, ISO strings or dates,
    each inclusive. ``ValueError`` for anything else (a pair of another length, a range
    that ends before it starts, a date that is not ISO)."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"date_in must be a list of [from, to] ISO date pairs, not {value!r}")
    out: list[tuple[dt.date, dt.date]] = []
    for pair in value:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"date_in: each range is a [from, to] pair, not {pair!r}")
        lo, hi = (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in pair)
        if hi < lo:
            raise ValueError(f"date_in: the range {lo} to {hi} ends before it starts")
        out.append((lo, hi))
    return out


def refusal(
    analyst: str,
    amount: float,
    allotment: float,
    cap: float,
    mine: Mapping[str, float],
    everyone: Mapping[str, float],
) -> BudgetExceeded | None:
    """The contract's charge rule, for every store: ``None`` when ``amount`` fits every
    partition under both limits (``mine``/``everyone``: the spend per partition so far),
    else the ``BudgetExceeded`` to raise."""
    if amount <= 0:
        return None
    worst: tuple[float, str, str] | None = None
    for part in sorted(mine):
        for left, which in (
            (allotment - mine[part], "analyst"),
            (cap - everyone[part], "lifetime"),
        ):
            if worst is None or left < worst[0]:
                worst = (left, part, which)
    assert worst is not None
    left, part, which = worst
    if amount <= left + EPS:
        return None
    room = max(left, 0.0)
    whose = f"analyst {analyst!r}" if which == "analyst" else "everyone together"
    return BudgetExceeded(
        f"{whose} ha{'s' if which == 'analyst' else 've'} {room:.4g} epsilon left on {part} "
        f"({'allotment' if which == 'analyst' else 'lifetime cap'} "
        f"{allotment if which == 'analyst' else cap:.4g}); this release needs {amount:.4g}",
        requested=amount,
        remaining=room,
        partition=part,
        limit=which,
    )


def check_partitions(partitions: Sequence[str]) -> list[str]:
    """The partitions of a charge, sorted and once each (the order every store locks them)."""
    if isinstance(partitions, str) or not partitions:
        raise ValueError("a charge names a non-empty sequence of partitions, e.g. ['FY2025']")
    return sorted(set(partitions))


def _nothing_stored(_id: str) -> str | None:
    return None


class InsertScreen:
    """The contract's insert rule, applied as rows pass (every store uses it).

    ``stored(id)`` gives a stored row's ``content_hash`` (``None`` when the id is not stored).
    ``first_seen(rows)`` yields the rows to write: each id's first row when the id is not
    stored. Every other row is filed in ``duplicates`` (same content as the stored row or the
    earlier one) or ``conflicts`` (other content); ``inserted`` lists the ids yielded.
    """

    def __init__(self, stored: Callable[[str], str | None] = _nothing_stored) -> None:
        self.inserted: list[str] = []
        self.duplicates: list[str] = []
        self.conflicts: list[str] = []
        self._stored = stored
        self._hashes: dict[str, str] = {}

    def first_seen(self, rows: Iterable[Row]) -> Iterator[Row]:
        hashes, stored = self._hashes, self._stored
        for row in rows:
            rid = row["id"]
            seen = hashes.get(rid)
            if seen is None:
                seen = stored(rid)
                if seen is None:
                    hashes[rid] = row["content_hash"]
                    self.inserted.append(rid)
                    yield row
                    continue
                hashes[rid] = seen
            if seen == row["content_hash"]:
                self.duplicates.append(rid)
            else:
                self.conflicts.append(rid)
