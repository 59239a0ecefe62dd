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

A to-date DP table (``to_date = true``) is released anew only when its cutoff moves (the end
of the last complete month: once a month), never because the data changed: on the same
cutoff its recorded release is served at no cost, so the state is charged for it at most once
a month (eleven times a fiscal year, since the first month has no complete month). Each
release is charged on the two fiscal years it reads, so one fiscal year of data carries at
most 22 such charges (11 while it is current, 11 while it is the year before). Two
consecutive releases differ by one month of noisy totals: that difference is covered by the
charge of each release, which the ledger composes. Publishing with DP tables runs under the
scope's lock (the release cache's, shared by the processes on one cache directory), so two
processes publishing at once charge once.

Each release records the day it counts to (``as_of``), so a page a year later can set the
current year to date beside the year before as it was published at the same point of its
year (``published_as_of``): a number already published, shown again, discloses nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._cache import canonical_key, store_identity
from ._dptables import release_dp_table
from ._errors import BudgetExceeded
from ._scope import Scope
from ._suppress import release_tables
from ._table import Coords, Table
from ._tablespec import where_key
from ._todate import to_date


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
    out: dict[str, str] = {}
    for s in scope.profile.tables:
        if s.mode != "dp":
            continue
        spec: dict[str, Any] = {
            "measures": list(s.measures),
            "by": list(s.by),
            "where": s.where,
            "epsilon": s.epsilon,
        }
        if s.to_date:
            spec["to_date"] = True
        out[s.name] = canonical_key(spec)[:20]
    return out


def cutoffs(scope: Scope) -> dict[str, str | None]:
    """Each to-date table's cutoff today (the last day it counts; ``None`` in the first
    month of a fiscal year): it is released anew only when this changes."""
    through = to_date(scope.profile, scope.today()).through
    day = through.isoformat() if through else None
    return {s.name: day for s in scope.profile.tables if s.to_date}


def publish(scope: Scope, data: str) -> dict[str, Table]:
    """The profile's tables on the store's data (named by the digest ``data``): the recorded
    release when there is one for this data, else a new one, recorded. With DP tables the
    whole is done under the scope's lock, so that two processes publishing at once charge
    the state once: the second finds the first's release recorded."""
    if not any(s.mode == "dp" for s in scope.profile.tables):
        return _publish(scope, data)
    with scope.lock(f"publish:{store_identity(scope.store.url)}:{tables_digest(scope)}"):
        return _publish(scope, data)


def _publish(scope: Scope, data: str) -> dict[str, Table]:
    digest = tables_digest(scope)
    every = [p["entry"] for p in scope.store.publications()]
    earlier = [e for e in every if e.get("tables") == digest]
    # releases under another set of tables (before a profile migration) still bind every
    # table they published with the same definition: what was withheld stays withheld
    now = _definitions(scope)
    linked = [e if e.get("tables") == digest else _same_tables(e, now) for e in every]
    specs_now = dp_specs(scope)
    cut_now = cutoffs(scope)
    if (
        earlier
        and earlier[-1]["data"] == data
        and earlier[-1].get("dp", {}) == specs_now
        and earlier[-1].get("dp_cutoff", {}) == cut_now
    ):
        return {name: Table.from_dict(t) for name, t in earlier[-1]["released"].items()}
    withheld: set[tuple[str, Coords]] = {
        (name, tuple(coords)) for e in linked for name, coords in e["withheld"]
    }
    shown = _shown(linked)
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
            key = specs_now[spec.name]
            same = [e for e in earlier if e.get("dp", {}).get(spec.name) == key]
            if spec.to_date:
                # re-released only when its cutoff moves (a new month), not on new data
                month = [
                    e
                    for e in same
                    if e.get("dp_cutoff", {}).get(spec.name, "-") == cut_now[spec.name]
                ]
                recorded = _recorded(spec.name, month)
                if recorded is not None:
                    tables[spec.name] = recorded
                    continue
            try:
                tables[spec.name] = release_dp_table(scope, spec, data=data, generated_at=at)
            except BudgetExceeded as exc:
                tables[spec.name] = _last_release(spec.name, same, exc)
    tables = {s.name: tables[s.name] for s in specs}
    scope.store.publish(
        {
            **_entry(digest, data, tables, audit),
            "dp": specs_now,
            "dp_cutoff": cut_now,
            # the day the release counts to: a later page may set it beside the same day
            "as_of": scope.today().isoformat(),
        }
    )
    return tables


def _recorded(name: str, earlier: Sequence[Mapping[str, Any]]) -> Table | None:
    """The DP table's latest recorded release among ``earlier``, as it was published."""
    for entry in reversed(earlier):
        recorded = entry["released"].get(name)
        if recorded is not None and recorded["metadata"].get("mode") == "dp":
            return Table.from_dict(recorded)
    return None


def _definition(measures: Any, dims: Any, where: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a suppressed table counts and how it is cut, comparable across releases."""
    return tuple(measures), tuple(dims), where_key(where)


def _definitions(scope: Scope) -> dict[str, tuple[Any, ...]]:
    """The definition of each suppressed table the profile publishes, by name."""
    return {
        s.name: _definition(s.measures, s.by, s.where)
        for s in scope.profile.tables
        if s.mode == "suppression"
    }


def _same_tables(entry: Mapping[str, Any], now: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """An earlier release under other tables, narrowed to the suppressed tables the profile
    still publishes under the same name and definition (``now``: measures, dimensions,
    where)."""
    keep = {
        name
        for name, recorded in entry["released"].items()
        if recorded["metadata"].get("mode", "suppression") == "suppression"
        and now.get(name)
        == _definition(
            recorded["metadata"]["measures"],
            recorded["metadata"]["dimensions"],
            recorded["metadata"]["where"],
        )
    }
    return {
        "released": {n: t for n, t in entry["released"].items() if n in keep},
        "withheld": [[n, c] for n, c in entry["withheld"] if n in keep],
    }


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
    table = _recorded(name, earlier)
    if table is None:
        raise exc
    when = table.generated_at.strftime("%Y-%m-%d")
    note = (
        f"Not updated: the state's privacy budget on {exc.partition} data is spent, so "
        f"this is the release of {when}, before the latest data."
    )
    return attrs.evolve(table, dp={**(table.dp or {}), "note": note, "stale": True})


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


#: how far before the asked day a recorded release may be and still stand for it
AS_OF_WINDOW = dt.timedelta(days=31)


def published_as_of(scope: Scope, day: dt.date, name: str) -> tuple[dt.date, Table] | None:
    """The table ``name`` as the latest recorded release counting to ``day`` or up to a
    month before it published it, with the day that release counted to; ``None`` when no
    release of that table was made then."""
    found: tuple[dt.date, dict[str, Any]] | None = None
    for publication in scope.store.publications():
        entry = publication["entry"]
        as_of, recorded = entry.get("as_of"), entry["released"].get(name)
        if as_of is None or recorded is None:
            continue
        when = dt.date.fromisoformat(as_of)
        # the later of two releases on one day wins (publications come in order)
        if day - AS_OF_WINDOW <= when <= day and (found is None or when >= found[0]):
            found = (when, recorded)
    return None if found is None else (found[0], Table.from_dict(found[1]))
