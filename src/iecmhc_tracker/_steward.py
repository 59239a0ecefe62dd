"""The data steward's audit of released state tables, against the store's true values.

A published :class:`Table` holds no true value of a withheld cell, so the audit reads them
where they are: in the store, on the data the tables were released from. It rebuilds the
release's linked system (every table, whatever its filters, through the fine cells of
``_linked``) and finds, by linear programming, the exact feasible interval of every withheld
value. The report names required intervals derived from true values: it is the steward's,
never to be published.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ._audit import AuditReport, CellAudit, required_bounds
from ._cache import data_digest
from ._errors import TrackerError
from ._linked import column
from ._profile import Profile, TableSpec
from ._suppress import build
from ._table import Table
from .stores import Store


class Source(Protocol):
    """Where the tables were released from: a tracker, or a role view's scope."""

    @property
    def store(self) -> Store: ...

    @property
    def profile(self) -> Profile: ...


def audit_suppression(source: Source, *tables: Table) -> AuditReport:
    """Audit tables released from ``source`` (a :class:`Tracker`; every published table of
    its profile when none is given): for every withheld value, its exact feasible [low,
    high] given everything the tables publish together, and whether that covers the
    protection interval (or as much of it as the attacker could not know with nothing
    published: every withheld cell holds a record, no activity more than 24 h). Run it at
    release time: once the data has changed, the tables no
    longer describe it and the audit refuses them."""
    store, profile = source.store, source.profile
    scope = getattr(source, "scope", None)  # a tracker: read as its views do (facts too)
    if scope is not None:
        store = scope.store
    # DP tables withhold nothing and publish no exact value: there is nothing to audit
    tables = tuple(t for t in tables if t.mode == "suppression")
    if not tables:
        raise TrackerError("name the tables to audit, e.g. audit_suppression(tracker, *tables)")
    digest = data_digest(store.url, store.data_version())
    for t in tables:
        if t.data_version != digest:
            raise TrackerError(
                f"table {t.name!r} was released from other data than the store now holds; "
                "audit a release before the data changes (at release time)"
            )
    specs = [_spec(profile, t) for t in tables]
    years = sorted({y for t in tables for y in t.fiscal_years})
    lk = build(store, profile, specs, years)
    by_name = {t.name: t for t in tables}
    withheld = lk.exempt.copy()
    for lay in lk.layouts:
        table = by_name[lay.spec.name]
        for c, g in zip(lay.coords, lay.cells, strict=True):
            if table.cell(*c).withheld:
                withheld[g] = True
    out: list[CellAudit] = []
    count = 0
    nonempty = np.asarray(lk.cells.records) > 0
    for key, (system, present) in lk.systems.items():
        red = system.reduced(withheld)
        # what the attacker knows with nothing published (every non-empty cell withheld):
        # no release can be asked to hide more than that
        prior = system.reduced(nonempty | lk.exempt)
        req_low, req_high = required_bounds(system.x, profile.suppression)
        seen: set[int] = set()
        for lay in lk.layouts:
            table = by_name[lay.spec.name]
            measure = next((m for m in lay.spec.measures if key.endswith(":" + column(m))), None)
            if measure is None:
                continue
            for c, g in zip(lay.coords, lay.cells, strict=True):
                if not (withheld[g] and present[g]) or g in seen:
                    continue
                seen.add(g)
                count += 1
                low = red.extreme(g, maximize=False)[0]
                high = red.extreme(g, maximize=True)[0]
                # with nothing published the attacker knows less (prior_low <= low and
                # prior_high >= high), so the prior is asked only where it can decide: a low
                # below the policy's requirement has a prior below it too
                need_low, need_high = float(req_low[g]), float(req_high[g])
                if low > need_low:
                    need_low = max(need_low, prior.extreme(g, maximize=False)[0])
                if high < need_high:
                    need_high = min(need_high, prior.extreme(g, maximize=True)[0])
                cell = table.cell(*c)
                out.append(
                    CellAudit(
                        table=table.name,
                        coords=c,
                        labels=cell.labels,
                        measure=measure,
                        reason="withheld",
                        low=float(low),
                        high=float(high),
                        required_low=need_low,
                        required_high=need_high,
                    )
                )
    cells = sum(1 for t in tables for c in t.all_cells if c.withheld)
    return AuditReport(tuple(t.name for t in tables), tuple(out), {"withheld": cells})


def _spec(profile: Profile, table: Table) -> TableSpec:
    """The table's spec: the profile's, or (a table released outside the profile's list)
    the one its own metadata describes."""
    try:
        return profile.table(table.name)
    except KeyError:
        return TableSpec(
            name=table.name,
            title=table.title,
            measures=table.measures,
            by=table.dims,
            where=dict(table.where),
        )
