"""The one error hierarchy of the library: everything raised on purpose is a TrackerError.

::

    TrackerError
    ├── ValidationError      a record, query or argument broke rules; .problems names each field
    │                        (also a ValueError)
    ├── ProfileError         a profile could not be loaded: file, line and key
    │   └── ProfileMismatch  the store's data was recorded under another profile
    ├── StorageError         the store failed or refused; every driver error becomes one
    │   ├── ConflictError    an id stored with other content, or a change one may not make
    │   ├── NotFound         no such activity (or not the caller's)
    │   ├── NotInitialised   no tracker tables (or an older schema) where nothing may be made
    │   └── SchemaVersionError  the database is newer than this library
    └── PrivacyError         a request would break the privacy policy
        ├── Forbidden        a role asked for what it may not see
        └── BudgetExceeded   a release would spend more than is left

Messages say what was wrong and how to fix it, and never echo a value screened as personal
data.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen(slots=True)
class Problem:
    """One thing wrong with one field of one record.

    ``code`` is a stable machine-readable tag (``"required"``, ``"unknown_code"``,
    ``"pii_email"`` …); ``message`` says what was wrong and how to fix it. Messages never
    echo a value screened as personal data.
    """

    field: str
    code: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.field}: {self.message} [{self.code}]"


class TrackerError(Exception):
    """Base of every error this library raises on purpose."""


class ValidationError(TrackerError, ValueError):
    """A record, a query or a request's argument broke one or more rules; ``problems`` lists
    every one, each naming its field. Also a ``ValueError``, as a bad argument is."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "; ".join(str(p) for p in self.problems[:10])
        more = len(self.problems) - 10
        if more > 0:
            lines += f"; … and {more} more"
        super().__init__(f"{len(self.problems)} problem(s): {lines}")

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.problems}


def invalid(field: str, code: str, message: str) -> ValidationError:
    """The error for one bad argument: ``raise invalid("epsilon", "range", "must be …")``."""
    return ValidationError([Problem(field, code, message)])


class ProfileError(TrackerError):
    """A profile could not be loaded: the message names the file, line and key."""


class ProfileMismatch(ProfileError):
    """The store's data was recorded under another profile (another name or content) than the
    one given; the message names the profile the store holds and how to proceed."""


class StorageError(TrackerError):
    """The store failed or refused an operation (driver errors are translated into this)."""


class ConflictError(StorageError):
    """An id already stored with different content, or a change to a row one may not change."""


class NotFound(StorageError):
    """No stored activity has that id (or it is not the caller's)."""


class NotInitialised(StorageError):
    """A store opened only to read has no tracker tables, or tables at an older schema: it
    is never created or migrated then; ``iecmhc init`` (or opening it to write) does that."""


class SchemaVersionError(StorageError):
    """The database's schema is newer than this library understands."""


class PrivacyError(TrackerError):
    """A request would break the privacy policy."""


class Forbidden(PrivacyError):
    """A role asked for something it may not see."""


class BudgetExceeded(PrivacyError):
    """A differentially private release would spend more than is left: ``remaining`` is the
    most it could have spent, ``partition`` the partition (fiscal year of data, ``"FY2025"``)
    that ran short and ``limit`` which limit did: ``"analyst"`` (the analyst's allotment) or
    ``"lifetime"`` (everyone's cap on that fiscal year)."""

    def __init__(
        self,
        message: str,
        *,
        requested: float,
        remaining: float,
        partition: str | None = None,
        limit: str | None = None,
    ) -> None:
        self.requested = requested
        self.remaining = remaining
        self.partition = partition
        self.limit = limit
        super().__init__(message)
