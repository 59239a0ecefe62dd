"""Publishing the state tables: every release recorded in the store's publication ledger.

A release of the profile's tables is suppressed jointly with every earlier release of the
same tables: a cell withheld once stays withheld, so no two releases can be differenced to
recover it. Asked again on unchanged data, the recorded release is returned, identical.

DP tables (``mode = "dp"``, see ``_dptables``) go through the same ledger: recorded with the
release, so unchanged data returns their recorded noisy numbers (never noised again, never
charged again). On changed data each is noised and charged anew on the state's account; when
a fiscal year it reads has not enough left, the table's last recorded release is served
again with a note saying so (or, if it was never released, ``BudgetExceeded`` names it and
the year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._cache import canonical_key
from ._dptables import release_dp_table
from ._errors import BudgetExceeded
from ._scope import Scope
from ._suppress import release_tables
from ._table import Coords, Table


def tables_digest(scope: Scope) -> str:
    """Names the profile's set of suppressed tables: a release is joint with those of the
    same set. DP tables are not part of it (they withhold nothing, so adding one leaves the
    suppressed tables linked to their earlier releases); ``dp_specs`` names them."""
    specs = [
        {"name": s.name, "measures": list(s.measures), "by": list(s.by), "where": s.where}
        for s in scope.profile.tables
        if s.mode == "suppression"
    ]
    return canonical_key({"profile": scope.profile.name, "tables": specs})[:20]


def dp_specs(scope: Scope) -> dict[str, str]:
    """Each DP table's spec, named: a recorded DP release is served only for the same spec."""
    return {
        s.name: canonical_key(
            {"measures": list(s.measures), "by": list(s.by), "where": s.where, "epsilon": s.epsilon}
        )[:20]
        for s in scope.profile.tables
        if s.mode == "dp"
    }


def publish(scope: Scope, data: str) -> dict[str, Table]:
    """The profile's tables on the store's data (named by the digest ``data``): the recorded
    release when there is one for this data, else a new one, recorded."""
    digest = tables_digest(scope)
    earlier = [p["entry"] for p in scope.store.publications() if p["entry"].get("tables") == digest]
    specs_now = dp_specs(scope)
    if earlier and earlier[-1]["data"] == data and earlier[-1].get("dp", {}) == specs_now:
        return {name: Table.from_dict(t) for name, t in earlier[-1]["released"].items()}
    withheld: set[tuple[str, Coords]] = {
        (name, tuple(coords)) for e in earlier for name, coords in e["withheld"]
    }
    shown = _shown(earlier)
    audit: dict[str, Any] = {}
    specs = scope.profile.tables
    suppressed = [s for s in specs if s.mode == "suppression"]
    at = dt.datetime.now(dt.UTC)
    tables: dict[str, Table] = {}
    if suppressed:
        tables = release_tables(
            scope.store,
            scope.profile,
            suppressed,
            years=scope.profile.fiscal_years(scope.today()),
            generated_at=at,
            data_version=data,
            earlier=withheld,
            shown=shown,
            report=audit,
        )
    # DP tables last: their charge is committed only once everything else was computed
    for spec in specs:
        if spec.mode == "dp":
            try:
                tables[spec.name] = release_dp_table(scope, spec, data=data, generated_at=at)
            except BudgetExceeded as exc:
                key = specs_now[spec.name]
                same = [e for e in earlier if e.get("dp", {}).get(spec.name) == key]
                tables[spec.name] = _last_release(spec.name, same, exc)
    tables = {s.name: tables[s.name] for s in specs}
    scope.store.publish({**_entry(digest, data, tables, audit), "dp": specs_now})
    return tables


def _shown(earlier: Sequence[Mapping[str, Any]]) -> dict[tuple[str, Coords], dict[str, Any]]:
    """What earlier releases published of each cell (the latest value wins)."""
    out: dict[tuple[str, Coords], dict[str, Any]] = {}
    for entry in earlier:
        for name, recorded in entry["released"].items():
            if recorded["metadata"].get("mode", "suppression") != "suppression":
                continue
            dims = recorded["metadata"]["dimensions"]
            measures = recorded["metadata"]["measures"]
            for rec in recorded["cells"]:
                if all(rec[m] is not None for m in measures):
                    out[(name, tuple(rec[d] for d in dims))] = {m: rec[m] for m in measures}
    return out


def _last_release(name: str, earlier: Sequence[Mapping[str, Any]], exc: BudgetExceeded) -> Table:
    """The DP table's last recorded release, with a note that it is not of the current data;
    ``exc`` again when there is none."""
    for entry in reversed(earlier):
        recorded = entry["released"].get(name)
        if recorded is not None and recorded["metadata"].get("mode") == "dp":
            table = Table.from_dict(recorded)
            when = table.generated_at.strftime("%Y-%m-%d")
            note = (
                f"Not updated: the state's privacy budget on {exc.partition} data is spent, so "
                f"this is the release of {when}, before the latest data."
            )
            return attrs.evolve(table, dp={**(table.dp or {}), "note": note, "stale": True})
    raise exc


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
