"""Publishing the state tables: every release recorded in the store's publication ledger.

A release of the profile's tables is suppressed jointly with every earlier release of the
same tables: a cell withheld once stays withheld, so no two releases can be differenced to
recover it. Asked again on unchanged data, the recorded release is returned, identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._cache import canonical_key
from ._scope import Scope
from ._suppress import release_tables
from ._table import Coords, Table


def tables_digest(scope: Scope) -> str:
    """Names the profile's table set: a release is joint with those of the same set."""
    specs = [
        {"name": s.name, "measures": list(s.measures), "by": list(s.by), "where": s.where}
        for s in scope.profile.tables
    ]
    return canonical_key({"profile": scope.profile.name, "tables": specs})[:20]


def publish(scope: Scope, data: str) -> dict[str, Table]:
    """The profile's tables on the store's data (named by the digest ``data``): the recorded
    release when there is one for this data, else a new one, recorded."""
    digest = tables_digest(scope)
    earlier = [p["entry"] for p in scope.store.publications() if p["entry"].get("tables") == digest]
    if earlier and earlier[-1]["data"] == data:
        return {name: Table.from_dict(t) for name, t in earlier[-1]["released"].items()}
    withheld: set[tuple[str, Coords]] = {
        (name, tuple(coords)) for e in earlier for name, coords in e["withheld"]
    }
    audit: dict[str, Any] = {}
    tables = release_tables(
        scope.store,
        scope.profile,
        scope.profile.tables,
        years=scope.profile.fiscal_years(scope.today()),
        data_version=data,
        earlier=withheld,
        report=audit,
    )
    scope.store.publish(_entry(digest, data, tables, audit))
    return tables


def _entry(
    digest: str, data: str, tables: Mapping[str, Table], audit: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "tables": digest,
        "data": data,
        "audit": dict(audit),
        "released": {name: t.to_dict() for name, t in tables.items()},
        "withheld": [
            [name, list(c.coords)] for name, t in tables.items() for c in t.all_cells if c.withheld
        ],
    }
