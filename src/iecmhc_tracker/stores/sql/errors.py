"""Driver errors → :class:`StorageError`, decided in one place by one table.

Every SQLAlchemy, driver or alembic failure leaves the SQL store through :func:`map_errors`.
What kind of failure it is comes from :func:`classify`, which reads the error's SQLSTATE
(PostgreSQL), errno (MySQL/MariaDB) or result code (SQLite) — never its message text:

* ``UNREACHABLE``: the server or file could not be reached or opened, or the database named in
  the URL does not exist or refuses the login; the message says to check server and URL.
* ``RETRY``: the transaction lost a race (serialisation failure, deadlock, a lock wait, the same
  key written meanwhile by another writer); the database rolled it back, so running it again
  is safe (:func:`retry`).
* ``INTEGRITY``: a constraint refused a row (the insert path's careful branch handles these).
* ``OTHER``: anything else.
"""

from __future__ import annotations

import contextlib
import enum
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import sqlalchemy as sa
from alembic.util import CommandError

from ..._errors import StorageError, TrackerError

T = TypeVar("T")


class Failure(enum.Enum):
    UNREACHABLE = "unreachable"
    RETRY = "retry"
    INTEGRITY = "integrity"
    OTHER = "other"


U, R, C = Failure.UNREACHABLE, Failure.RETRY, Failure.INTEGRITY

#: PostgreSQL SQLSTATE → failure; a two-character key stands for its whole class
SQLSTATES: dict[str, Failure] = {
    "08": U,  # connection exception (every 08xxx)
    "28": U,  # invalid authorisation (wrong user or password)
    "3D000": U,  # the database in the URL does not exist
    "57P03": U,  # the server is starting up or shutting down
    "40001": R,  # serialisation failure
    "40P01": R,  # deadlock
    "23505": R,  # unique violation: the same key stored meanwhile by another writer
    "23": C,  # other integrity constraint violations
}
#: MySQL/MariaDB errno → failure
MYSQL_ERRNOS: dict[int, Failure] = {
    1044: U,  # access denied to the database
    1045: U,  # access denied for the user
    1049: U,  # unknown database
    2002: U,  # cannot connect through the socket
    2003: U,  # cannot connect to the server
    2005: U,  # unknown host
    2006: U,  # server has gone away
    2013: U,  # lost connection during the query
    1062: R,  # duplicate key: stored meanwhile by another writer
    1205: R,  # lock wait timeout
    1213: R,  # deadlock
    1452: C,  # foreign key
}
#: SQLite primary result code → failure
SQLITE_CODES: dict[int, Failure] = {
    5: R,  # SQLITE_BUSY: another connection holds the lock
    6: R,  # SQLITE_LOCKED
    14: U,  # SQLITE_CANTOPEN: the file or its folder cannot be opened
    19: C,  # SQLITE_CONSTRAINT
}


def _driver_classes() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """The driver error classes present: all of them, and those raised when no server
    answered (psycopg reports a client-side connection failure without a SQLSTATE)."""
    every: list[type[BaseException]] = [sa.exc.SQLAlchemyError, sqlite3.Error, CommandError]
    no_server: list[type[BaseException]] = []
    with contextlib.suppress(ImportError):
        import psycopg

        every.append(psycopg.Error)
        no_server.append(psycopg.OperationalError)
    with contextlib.suppress(ImportError):
        import pymysql

        every.append(pymysql.Error)
    return tuple(every), tuple(no_server)


DRIVER_ERRORS, _NO_SERVER = _driver_classes()


def _origin(exc: BaseException) -> BaseException:
    """The driver's own exception inside a SQLAlchemy wrapper."""
    return getattr(exc, "orig", None) or exc


def classify(exc: BaseException | None) -> Failure:
    """What kind of failure a driver, SQLAlchemy or :class:`StorageError`'s cause is."""
    if exc is None:
        return Failure.OTHER
    if isinstance(exc, StorageError):
        return classify(exc.__cause__)
    orig = _origin(exc)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return SQLSTATES.get(state) or SQLSTATES.get(state[:2], Failure.OTHER)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):  # extended codes carry the primary one in the low byte
            return SQLITE_CODES.get(code & 0xFF, Failure.OTHER)
        return C if isinstance(orig, sqlite3.IntegrityError) else Failure.OTHER
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return MYSQL_ERRNOS.get(args[0], Failure.OTHER)
    if _NO_SERVER and isinstance(orig, _NO_SERVER):
        return U
    if isinstance(exc, sa.exc.IntegrityError):
        return C
    return Failure.OTHER


def _integrity_classes() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [sqlite3.IntegrityError]
    with contextlib.suppress(ImportError):
        import psycopg  # COPY runs on the raw connection, so its errors come unwrapped

        found.append(psycopg.IntegrityError)
    with contextlib.suppress(ImportError):
        import pymysql

        found.append(pymysql.IntegrityError)
    return tuple(found)


#: what a constraint's refusal is raised as, wrapped by SQLAlchemy or straight from a driver
INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (sa.exc.IntegrityError, *_integrity_classes())


@contextlib.contextmanager
def map_errors(url: str) -> Iterator[None]:
    """Translate every SQLAlchemy or driver failure into :class:`StorageError`."""
    try:
        yield
    except TrackerError:
        raise
    except DRIVER_ERRORS as exc:
        orig = _origin(exc)
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if classify(exc) is U:
            raise StorageError(
                f"cannot reach the database at {url}: {text}; check that the server runs "
                "and the URL is right"
            ) from exc
        raise StorageError(f"the database at {url} failed: {text}") from exc


_RETRIES = 5


def retry(fn: Callable[[], T]) -> T:
    """Run one write transaction, again when it lost a race (the same id stored meanwhile by
    another writer, a deadlock): the database rolled all of it back, so redoing it is safe."""
    for attempt in range(_RETRIES):
        try:
            return fn()
        except StorageError as exc:
            if attempt == _RETRIES - 1 or classify(exc) is not R:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover
