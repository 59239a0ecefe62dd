"""The entry point: ``Tracker.open(url, profile=...)`` and the role views it hands out."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, overload

import attrs

from ._cache import ReleaseCache
from ._columns import Row
from ._engagement import Engagement
from ._errors import ConflictError, Problem, StorageError, ValidationError
from ._fact_store import FactStore
from ._model import Activity
from ._profile import Profile, load_profile
from ._profilestamp import settle
from ._record_types import AnyRecord, RecordTypes
from ._request import Request
from ._researcher import ResearcherSession
from ._rows import row_builder, to_row
from ._scope import Record, Scope
from ._validate import examine, examiner
from ._views import ConsultantView, ProgramView, StateView, deleted_on
from .stores import Store, open_store
from .stores.sql.engine import shown

DEFAULT_URL = "sqlite:///tracker.db"


def _shown(url: str) -> str:
    """``url`` as messages show it (a SQL URL's password hidden)."""
    if "://" not in url or url.startswith("memory:"):
        return url
    try:
        return shown(url)
    except StorageError:
        return url


class _Invalid(Exception):
    """A batch of ``record_many`` holds an invalid record: none of it may be written."""


class _Batch:
    """One all-or-nothing batch of ``record_many``, read from the shared input as the store
    asks for rows: validated rows go to the store while later ones are still being checked
    (on PostgreSQL they stream into COPY). After an invalid record the rest of the batch is
    only checked, and the store rolls back what it was given."""

    __slots__ = ("_check", "_make_row", "_size", "_today", "bad", "last", "numbers")

    def __init__(
        self,
        check: Callable[[Record, dt.date], tuple[Activity | None, list[Problem]]],
        make_row: Callable[[Activity], Row],
        today: dt.date,
        size: int | None,
    ) -> None:
        self._check, self._make_row, self._today, self._size = check, make_row, today, size
        self.bad: list[Problem] = []
        self.numbers: dict[str, int] = {}  # id -> its row number, to report a conflict
        self.last = 0  # the last row number read

    def rows(
        self, first: tuple[int, Record], rest: Iterator[tuple[int, Record]], expected: int = 0
    ) -> Iterable[Row]:
        """The batch's rows as the store reads them; ``operator.length_hint`` of the result
        is ``expected``, the number of records the batch will read if the input's length is
        known, so the store can plan for a big batch before reading it."""
        return _Hinted(self._rows(first, rest), expected)

    def _rows(self, first: tuple[int, Record], rest: Iterator[tuple[int, Record]]) -> Iterator[Row]:
        check, make_row, today, bad = self._check, self._make_row, self._today, self.bad
        for taken, (number, record) in enumerate(itertools.chain((first,), rest), 1):
            self.last = number
            activity, found = check(record, today)
            if found and isinstance(record, Mapping) and "type" in record:
                activity, found = _typed_in_stream(check, record, today)
            if found or activity is None:
                bad.extend(attrs.evolve(p, row=number) for p in found)
            elif not bad:
                row = make_row(activity)
                self.numbers[row["id"]] = number
                yield row
            if taken == self._size:
                break
        if bad:
            raise _Invalid


def _typed_in_stream(
    check: Callable[[Record, dt.date], tuple[Activity | None, list[Problem]]],
    record: Mapping[str, Any],
    today: dt.date,
) -> tuple[Activity | None, list[Problem]]:
    """A mapping naming its type in a stream of activities: an activity is checked without
    its ``type``; anything else is refused (a mix imports from a list, or a stream whose
    first record is not an activity)."""
    if record["type"] == "activity":
        return check({k: v for k, v in record.items() if k != "type"}, today)
    return None, [
        Problem(
            "type",
            "mixed_stream",
            "an engagement or request in a stream of activities; pass the records as a list, "
            "or stream them apart from the activities",
        )
    ]


class _Hinted:
    """An iterator with a length hint (``operator.length_hint``), which a generator lacks."""

    __slots__ = ("_hint", "_it")

    def __init__(self, it: Iterator[Row], hint: int) -> None:
        self._it, self._hint = it, hint

    def __iter__(self) -> Iterator[Row]:
        return self._it

    def __length_hint__(self) -> int:
        return self._hint


@attrs.frozen(slots=True)
class ImportResult:
    """What ``record_many`` did: rows written, rows already stored, and every rejected row.

    ``rejected`` holds one :class:`Problem` per problem, with its 1-based ``row`` number in the
    input. A batch with any rejected row writes nothing (``inserted == 0`` for it).
    """

    inserted: int = 0
    duplicates: int = 0
    rejected: tuple[Problem, ...] = ()
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.rejected if p.row is not None})


class Tracker:
    """Records activity into a store under a profile, and hands out role-scoped views."""

    def __init__(
        self,
        store: Store,
        profile: Profile,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.store = store
        self.profile = profile
        self._today = today
        self._cache_dir = cache_dir
        self._release_cache: ReleaseCache | None = None
        # the views' store, kept so that its fact rows are built once per data version,
        # not once per view (a REST request makes a view)
        self._views_store: tuple[Store, Profile, FactStore] | None = None

    @classmethod
    def open(
        cls,
        url: str = DEFAULT_URL,
        profile: str | Path | Profile | None = None,
        *,
        create: bool = True,
        today: Callable[[], dt.date] = dt.date.today,
        cache_dir: str | Path | None = None,
        **store_options: Any,
    ) -> Tracker:
        """Open the store at ``url`` under its profile.

        ``url``: ``sqlite:///path`` (default ``sqlite:///tracker.db``), ``memory://``,
        ``postgresql+psycopg://…`` or ``mysql+pymysql://…``. ``profile``: a shipped profile's
        name, a TOML path or a loaded :class:`Profile`; ``None`` (the default) opens the
        store under the profile it remembers (Illinois for a store that holds none yet). A
        store remembers the profile it was first opened under to write; another one (other
        name or content) is refused with :class:`ProfileMismatch`.

        ``create=True`` creates or migrates the store's tables as needed and stamps a new
        store with its profile; ``create=False`` opens only what is there, never creating,
        migrating or stamping, and raises :class:`NotInitialised` where there are no tracker
        tables. Extra keyword arguments go to the store (e.g. ``table_prefix="iecmhc_"``).
        """
        given = None
        if profile is not None:
            given = profile if isinstance(profile, Profile) else load_profile(profile)
        if not create and not url.startswith("memory:"):
            store_options["create"] = False
        store = open_store(url, **store_options)
        try:
            prof = settle(store, given, write=create, url=_shown(url))
        except BaseException:
            store.close()
            raise
        return cls(store, prof, today=today, cache_dir=cache_dir)

    def close(self) -> None:
        if self._release_cache is not None:
            self._release_cache.close()
            self._release_cache = None
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------
    def check(self, record: Record) -> Activity:
        """Validate without storing: the Activity, or ``ValidationError`` with every problem."""
        activity, found = examine(record, self.profile, self._today())
        if found or activity is None:
            raise ValidationError(found)
        return activity

    def check_record(self, record: Record | Engagement | Request) -> AnyRecord:
        """Validate a record of any type (a mapping naming its ``"type"``) without storing
        it: the record, or ``ValidationError`` with every problem."""
        kind, data = self._types.kind_of(record)
        if kind == "activity":
            return self.check(data)
        checked: Engagement | Request | None
        checked, found = self._types.examine(kind, data, self._today())
        if found or checked is None:
            raise ValidationError(found)
        return checked

    @overload
    def record(self, record: Activity) -> Activity: ...
    @overload
    def record(self, record: Engagement) -> Engagement: ...
    @overload
    def record(self, record: Request) -> Request: ...
    @overload
    def record(self, record: Mapping[str, Any]) -> AnyRecord: ...

    def record(self, record: Record | Engagement | Request) -> AnyRecord:
        """Validate and store one activity, engagement or request; returns it. A mapping
        names its type by ``"type"`` (``"activity"``, the default, ``"engagement"`` or
        ``"request"``). Re-recording the same content is a no-op; the same id with other
        content raises :class:`ConflictError`, and so does the id of a deleted activity
        (restore it through the consultant's view instead)."""
        kind, data = self._types.kind_of(record)
        if kind == "activity":
            return self._record_activity(data)
        checked = self.check_record(record)
        _, _, conflicts = self.store.insert_records({kind: [self._types.row(kind, checked)]})
        if conflicts:
            raise ConflictError(
                f"{kind} {checked.id} is already stored with different content; record it "
                "under a new id"
            )
        return checked

    def _record_activity(self, record: Record) -> Activity:
        activity = self.check(record)
        rid = str(activity.id)
        inserted, _, conflicts = self.store.insert([to_row(activity, self.profile)])
        if not inserted:
            row = self.store.get(rid)
            if row is not None and row["deleted_at"] is not None:
                raise ConflictError(
                    f"activity {rid} was deleted on {deleted_on(row)}; restore it "
                    "(as_consultant(...).restore(id), or iecmhc restore ID) rather than "
                    "recording it again, or record it under a new id"
                )
        if conflicts:
            raise ConflictError(
                f"activity {activity.id} is already stored with different content; amend it "
                "through the consultant's view instead of recording it again"
            )
        return activity

    @property
    def _types(self) -> RecordTypes:
        return RecordTypes.of(self.profile)

    def record_many(
        self,
        records: Iterable[Record | Engagement | Request],
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Validate and store many records, idempotently on their ids: activities, and
        engagements and requests (as objects, or mappings naming their ``"type"``).

        Each batch (the whole input when ``batch_size`` is None) is all-or-nothing: if any
        row of it is invalid or conflicts with a stored activity, none of it is written and
        every problem is reported with its row number. ``progress`` is called with the number
        of rows handled after each batch.
        """
        today = self._today()
        kind_of = self._types.kind_of
        if isinstance(records, list | tuple):
            mixed = any(
                not isinstance(r, Activity) and kind_of(r)[0] != "activity" for r in records
            )
        else:  # a stream: its first record tells (a stream of activities stays streamed)
            stream = iter(records)
            head = next(stream, None)
            if head is None:
                return ImportResult()
            records = itertools.chain((head,), stream)
            mixed = kind_of(head)[0] != "activity"
        if mixed:
            counts = self._types.record_many(self.store, records, today, batch_size, progress)
            return ImportResult(counts[0], counts[1], tuple(counts[2]), counts[3])
        check = examiner(self.profile)
        make_row = row_builder(self.profile)
        known = operator.length_hint(records)  # 0 for a generator
        source = enumerate(records, 1)
        inserted = duplicates = total = 0
        rejected: list[Problem] = []
        while (first := next(source, None)) is not None:
            batch = _Batch(check, make_row, today, batch_size)
            left = known - first[0] + 1
            expected = max(0, min(left, batch_size) if batch_size else left)
            try:
                ins, dup, conf = self.store.insert(batch.rows(first, source, expected))
            except _Invalid:
                rejected.extend(batch.bad)
            else:
                if conf:
                    rejected.extend(
                        Problem(
                            "id",
                            "conflict",
                            "already stored with different content; amend it instead",
                            row=batch.numbers.get(cid),
                        )
                        for cid in dict.fromkeys(conf)
                    )
                else:
                    inserted += len(ins)
                    duplicates += len(dup)
            total = batch.last
            if progress is not None:
                progress(total)
        return ImportResult(inserted, duplicates, tuple(rejected), total)

    # -- roles -------------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        """What the role views get of this tracker: store, profile, clock, checked writes."""
        held = self._views_store
        if held is None or held[0] is not self.store or held[1] is not self.profile:
            held = self._views_store = (
                self.store,
                self.profile,
                FactStore(self.store, self.profile, self._today),
            )
        return Scope(
            held[2], self.profile, self._today, self.check, self._record_activity, self._lock
        )

    def _lock(self, key: str) -> AbstractContextManager[None]:
        """The release cache's lock on ``key``: across the processes sharing the cache."""
        return self._cache().lock(key)

    def _cache(self) -> ReleaseCache:
        if self._release_cache is None:
            self._release_cache = ReleaseCache.for_store(self.store.url, self._cache_dir)
        return self._release_cache

    def as_consultant(self, consultant: str) -> ConsultantView:
        return ConsultantView(self.scope, consultant)

    def as_program(self, program: str) -> ProgramView:
        return ProgramView(self.scope, program)

    def as_state(self) -> StateView:
        """The state role: the profile's published tables, suppressed; never rows."""
        return StateView(self.scope)

    def as_researcher(self, analyst: str) -> ResearcherSession:
        """A differentially private session for ``analyst`` (normalised: ``"AN-1 "`` is
        ``"an-1"``): releases only, never rows, on a budget per fiscal year of data from the
        profile. Releases are cached in ``cache_dir`` (by default beside a SQLite file, or
        under the user cache directory for server URLs)."""
        return ResearcherSession(self.scope, analyst, self._cache())
