"""The SQL store, split by job: ``store`` (transactions, reads, the ledger), ``bulk`` (bulk
writes), ``aggregate`` (aggregation SQL), ``errors`` (one classifier of driver errors),
``engine`` (URLs and engines), ``migrate`` and ``migrations/`` (alembic), ``schema`` and
``rollup`` (the tables and the per-unit cell totals), ``dialects`` (every database
difference, one object per database)."""

from .dialects import Dialect, dialect_for
from .errors import map_errors
from .schema import SCHEMA_VERSION, Schema, build_schema
from .store import SQLStore

__all__ = [
    "SCHEMA_VERSION",
    "Dialect",
    "SQLStore",
    "Schema",
    "build_schema",
    "dialect_for",
    "map_errors",
]
