"""Storage: the :class:`Store` contract, its implementations and the choice among them.

A store speaks rows and per-unit partial sums in plain primitives (``contract``); the library
above it does roles, suppression and noise. ``open_store(url)`` picks the implementation by
the URL's scheme (``registry``): :class:`MemoryStore` for ``memory://``, :class:`SQLStore` for
SQLite, PostgreSQL and MariaDB/MySQL. ``iecmhc_tracker.stores.testing`` is the contract suite
as importable tests, for a backend written outside this package.
"""

from .contract import (
    Cell,
    CellStat,
    Filters,
    InsertOutcome,
    InsertScreen,
    MeasureSpec,
    PartialSum,
    Store,
)
from .memory import MemoryStore
from .registry import BACKENDS, open_store
from .sql import SQLStore

__all__ = [
    "BACKENDS",
    "Cell",
    "CellStat",
    "Filters",
    "InsertOutcome",
    "InsertScreen",
    "MeasureSpec",
    "MemoryStore",
    "PartialSum",
    "SQLStore",
    "Store",
    "open_store",
]
