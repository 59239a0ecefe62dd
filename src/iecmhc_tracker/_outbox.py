"""An offline outbox: record while the database is unreachable, deliver exactly once later.

``Outbox(directory, url_or_tracker, profile=...)`` keeps validated activities in a
diskcache ``Index`` on local disk (an SQLite file: it survives a crash or a restart of the
process). ``sync()`` delivers them in batches through the store's idempotent insert and
removes a record from the queue only after the transaction that stored it committed; a crash
between the two re-sends it next time, which the insert recognises as a duplicate, so every
record ends up in the store exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import diskcache

from ._errors import ConflictError, StorageError
from ._model import Activity
from ._profile import Profile, load_profile
from ._rows import to_row
from ._scope import Record
from ._tracker import Tracker
from ._validate import validate


@attrs.frozen(slots=True)
class SyncResult:
    """What one ``sync()`` did: ids stored now, ids the store already had, and ids the store
    holds with other content (kept aside in the outbox's ``conflicts``, never overwritten)."""

    delivered: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.conflicts


class Outbox:
    """A local queue of validated activities in front of a store.

    ``target`` is a :class:`Tracker` or a store URL (then ``profile`` names the profile and
    ``store_options`` go to the store, e.g. ``table_prefix``). With a URL nothing touches the
    database until :meth:`sync`, so :meth:`record` works while it is down.
    """

    def __init__(
        self,
        directory: str | Path,
        target: Tracker | str,
        profile: str | Path | Profile = "illinois",
        *,
        today: Callable[[], dt.date] = dt.date.today,
        **store_options: Any,
    ) -> None:
        self.directory = Path(directory)
        self._target = target
        if isinstance(target, Tracker):
            self.profile = target.profile
        else:
            self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self._today = today
        self._options = store_options
        try:
            self._queue = diskcache.Index(str(self.directory / "queue"))
            self._conflicts = diskcache.Index(str(self.directory / "conflicts"))
        except Exception as exc:  # diskcache raises OSError / sqlite3 errors
            raise StorageError(f"cannot open the outbox at {self.directory}: {exc}") from exc

    # -- recording (local only) ----------------------------------------------------------
    def record(self, record: Record) -> Activity:
        """Validate ``record`` and queue it on local disk; returns the Activity.

        Raises :class:`ValidationError` for an invalid record and :class:`ConflictError` when
        the same id is already queued with other content.
        """
        activity = validate(record, self.profile, self._today())
        key = str(activity.id)
        payload = json.dumps(activity.to_dict(), sort_keys=True)
        queued = self._queue.get(key)
        if queued is not None and queued != payload:
            raise ConflictError(
                f"activity {key} is already waiting in the outbox with different content; "
                "sync first, then amend it through the consultant's view"
            )
        self._queue[key] = payload
        return activity

    def record_many(self, records: Iterable[Record]) -> int:
        """Queue many records (each validated); returns how many were queued."""
        n = 0
        for record in records:
            self.record(record)
            n += 1
        return n

    def __len__(self) -> int:
        return len(self._queue)

    def pending(self) -> list[Activity]:
        """The queued activities, oldest first."""
        return [Activity.from_dict(json.loads(v)) for v in self._queue.values()]

    def conflicts(self) -> list[Activity]:
        """Activities the store held with other content when they were synced."""
        return [Activity.from_dict(json.loads(v)) for v in self._conflicts.values()]

    # -- delivery ------------------------------------------------------------------------
    def sync(self, *, batch_size: int = 1000) -> SyncResult:
        """Deliver every queued activity; raises :class:`StorageError` (queue intact) when
        the database cannot be reached."""
        delivered: list[str] = []
        duplicates: list[str] = []
        conflicts: list[str] = []
        tracker, owned = self._tracker()
        try:
            while True:
                keys = list(_take(self._queue.keys(), batch_size))
                if not keys:
                    break
                payloads = {k: self._queue[k] for k in keys}
                rows = [
                    to_row(Activity.from_dict(json.loads(p)), tracker.profile)
                    for p in payloads.values()
                ]
                ins, dup, conf = tracker.store.insert(rows, atomic=False)
                # committed: only now may the records leave the queue
                for k in conf:
                    self._conflicts[k] = payloads[k]
                for k in keys:
                    self._queue.pop(k, None)
                delivered += ins
                duplicates += dup
                conflicts += conf
        finally:
            if owned:
                tracker.close()
        return SyncResult(tuple(delivered), tuple(duplicates), tuple(conflicts))

    def _tracker(self) -> tuple[Tracker, bool]:
        if isinstance(self._target, Tracker):
            return self._target, False
        return Tracker.open(self._target, self.profile, today=self._today, **self._options), True

    def close(self) -> None:
        """Close the local queue files (queued records stay on disk)."""
        self._queue.cache.close()
        self._conflicts.cache.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _take(keys: Iterable[str], n: int) -> Iterable[str]:
    for i, k in enumerate(keys):
        if i >= n:
            return
        yield k
