"""Releasing state tables with cell suppression, in small steps:

``aggregate`` (per-cell stats from ``Store.cell_stats``, one call per margin level) →
``primary`` (too few consultants or records, or one dominant consultant) →
``complementary`` (more cells withheld until no withheld value can be recovered or narrowed
from what is published, checked by linear programming) → ``render`` (:class:`Table`).

Tables of one profile that count the same activities (the same ``where``) are released
together: their common margins (e.g. the per-year totals of every "… × fiscal year" table, and
the grand total) are one cell of one linked system, so a total is withheld in all of them or
in none, and every table's relations constrain the attacker at once.

Decisions, kept deliberately simple:

- Privacy unit for suppression is the consultant (``min_consultants`` counts consultants).
- A cell withheld in one measure is withheld in every measure of its tables: a record count
  published next to a withheld hours total would narrow it.
- Every withheld cell is protected (primary *and* complementary cells and withheld margins):
  the attacker's feasible interval must cover ``value ± max(protection × value, min_count)``
  (clamped at 0) in every additive measure. Distinct counts (``consultants``, ``programs``)
  are not additive; they follow the pattern but are not part of the linear audit. Programs
  are published statewide per fiscal year only (``_tablespec``), read once per release, and a
  cell counting fewer than ``min_consultants`` programs is withheld as primary.
- A table with k dimensions publishes every margin (all totals over any subset of its
  dimensions): row, column and grand totals for 2 dimensions, the 2- and 1-dimensional
  margins and grand total for 3.
- Zero cells (no records) are published as 0.

Complementary suppression is an audit-and-repair loop: each withheld value is certified either
by a known feasible point of the attacker's problem (a *witness*: every LP solution found on
the way is one) or by an exact LP; when the LP shows a value under-protected, a small LP over
the whole table finds the cheapest way to move it by its protection width (cost of a published
cell = 1 + its value, so small cells are preferred) and every published cell that way touches
is withheld. Withholding more only widens intervals, so certified values stay certified and the
loop ends; it runs once over a queue that new complementary cells join.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from ._audit import BoolArray, FloatArray, LinearSystem, additive
from ._cellstats import Partials
from ._complementary import complementary
from ._family import Cells, Key, Layout
from ._linked import FINE, FineCells, column, fine_dimensions, link, record_group
from ._measures import MEASURES
from ._profile import Profile, SuppressionPolicy
from ._query import Query, compile_query
from ._table import NOT_RECORDED, TOTAL_LABEL, WITHHELD, Coords, Table, TableCell
from ._tablespec import TableSpec, where_key
from .stores import CellStat, Store

UNIT = "consultant"
#: the least hours one activity with hours holds (validation asks for quarter hours)
MIN_HOURS = 0.25


# -- step 1: aggregate -------------------------------------------------------------------------


def domain(profile: Profile, dim: str, years: Sequence[int]) -> list[Any]:
    """A dimension's public codes, in the profile's order."""
    if dim == "fiscal_year":
        return list(years)
    if dim == "quarter":
        return [1, 2, 3, 4]
    if dim == "county":
        return [c.code for c in profile.counties]
    if dim == "region":
        return [r.code for r in profile.regions]
    if dim in profile.fields:
        return [c.code for c in profile.fields[dim].codes]
    return [c.code for c in profile.codes.get(dim, ())]


def aggregate(
    store: Store,
    profile: Profile,
    specs: Sequence[TableSpec],
    years: Sequence[int],
    cells: Cells | None = None,
    partials: Partials | None = None,
) -> tuple[Cells, list[Layout]]:
    """Per-cell stats for tables sharing one ``where``, every margin level included, added
    to ``cells`` (a new one by default). A cell's key holds the ``where``, so tables with
    other filters add cells of their own. ``partials``: the record kind's partial sums,
    read once (else the store is asked for each margin level)."""
    measures = list(dict.fromkeys(m for s in specs for m in s.measures))
    if cells is None:
        cells = Cells(measures)
    measures = list(cells.measures)
    where = _where_key(specs[0])
    filters = _filters(profile, specs)
    compiled = compile_query(Query(measures, (), dict(specs[0].where)), profile)
    # counts of programs: one read of their own (per program, not per consultant), put in
    # place of a count of records the consultants' read answers at no cost
    counted = [j for j, m in enumerate(measures) if MEASURES[m].unit == "program"]
    asked = [("*", ()) if j in counted else spec for j, spec in enumerate(compiled.measures)]
    reach = {tuple(sorted(s.by)) for s in specs if counted and set(s.measures) & PROGRAMS}
    calls: dict[tuple[str, ...], dict[Key, CellStat]] = {}
    layouts = []
    for spec in specs:
        dims = tuple(spec.by)
        stats: dict[Key, CellStat] = {}
        for r in range(len(dims) + 1):
            for subset in itertools.combinations(sorted(dims), r):
                if not per_year(dims, subset):
                    continue
                if subset not in calls:
                    got = (
                        partials.cell_stats(subset, asked, filters)
                        if partials is not None
                        else store.cell_stats(UNIT, subset, asked, filters)
                    )
                    if counted:
                        got = _with_programs(store, subset, got, counted, filters, subset in reach)
                    calls[subset] = {
                        tuple(zip(subset, map(_code, stat[0]), strict=True)): stat for stat in got
                    }
                stats.update(calls[subset])
        doms = []
        full = calls[tuple(sorted(dims))]
        for d in dims:
            allowed = filters.get(d)
            values = domain(profile, d, years)
            if allowed is not None and not isinstance(allowed, str):
                values = [v for v in values if v in allowed]
            seen = {dict(k)[d] for k in full}
            # values outside the public list (e.g. not recorded) still count in the totals
            values += sorted((v for v in seen if v not in values), key=str)
            doms.append(values)
        inner = list(itertools.product(*doms))
        margins = [
            c
            for r in range(len(dims) - 1, -1, -1)
            for kept in itertools.combinations(range(len(dims)), r)
            if per_year(dims, tuple(dims[i] for i in kept))
            for c in itertools.product(
                *[doms[i] if i in kept else [None] for i in range(len(dims))]
            )
        ]
        coords = inner + margins
        idx = []
        zero = (0, 0, (0.0,) * len(measures), (0.0,) * len(measures))
        for c in coords:
            key = tuple(sorted((d, v) for d, v in zip(dims, c, strict=True) if v is not None))
            stat = stats.get(key)
            idx.append(cells.add((where, *key), zero if stat is None else stat[1:]))
        layouts.append(Layout(spec, coords, idx))
    return cells, layouts


#: the measures counted per program (distinct programs), not per consultant
PROGRAMS = frozenset(m for m, spec in MEASURES.items() if spec.unit == "program")


def _with_programs(
    store: Store,
    dims: tuple[str, ...],
    stats: list[CellStat],
    at: Sequence[int],
    filters: Mapping[str, Any],
    read: bool,
) -> list[CellStat]:
    """``stats`` with the distinct count of programs in the measures ``at``: read from the
    store once (``read``: a table publishes programs at this level), else 0 (no table shows
    them)."""
    count: dict[Any, int] = {}
    if read:
        count = {c: k for c, _, k, _, _ in store.cell_stats("program", dims, [("*", ())], filters)}
    out: list[CellStat] = []
    for cell, n, units, sums, tops in stats:
        s, t = list(sums), list(tops)
        for j in at:
            s[j], t[j] = float(count.get(cell, 0)), 0.0
        out.append((cell, n, units, tuple(s), tuple(t)))
    return out


def _where_key(spec: TableSpec) -> tuple[str, str, Any]:
    """What a family's cells count: the record kind (activities, or referrals) and filters."""
    return ("~where", record_group(spec.by, spec.where), where_key(spec.where))


def _filters(profile: Profile, specs: Sequence[TableSpec]) -> dict[str, Any]:
    """The store filters of tables sharing one ``where``."""
    compiled = compile_query(Query(list(specs[0].measures), (), dict(specs[0].where)), profile)
    filters = dict(compiled.filters)
    if any("resource_type" in s.by for s in specs) and "resource_type" not in filters:
        # a table by resource type counts referrals: its margins must count the same
        # (row, referral) records as its cells, not every activity of the period
        filters["resource_type"] = sorted(profile.code_set("resource_type"))
    return filters


def _groups(specs: Sequence[TableSpec]) -> dict[str, list[TableSpec]]:
    groups: dict[str, list[TableSpec]] = {}
    for s in specs:
        groups.setdefault(record_group(s.by, s.where), []).append(s)
    return groups


def read_partials(
    store: Store, profile: Profile, specs: Sequence[TableSpec]
) -> dict[str, Partials]:
    """Each record kind's per-(consultant, fine cell) partial sums, read once (``_cellstats``)."""
    out: dict[str, Partials] = {}
    # a release's cells carry every measure of every table, whatever their record kind
    cols = ["*"] + [
        c
        for s in specs
        for m in s.measures
        for c, _ in compile_query(Query([m], (), dict(s.where)), profile).measures
    ]
    kinds = any(MEASURES[m].kinds for s in specs for m in s.measures)
    for group, members in _groups(specs).items():
        dims = fine_dimensions([(s.by, s.where, s.measures) for s in members])
        if kinds and "kind" not in dims:
            dims = tuple(sorted((*dims, "kind")))
        base: dict[str, Any] = {}
        if group == "referrals":
            base["resource_type"] = sorted(profile.code_set("resource_type"))
        out[group] = Partials(store, UNIT, dims, cols, base)
    return out


def fine_cells(
    store: Store,
    profile: Profile,
    specs: Sequence[TableSpec],
    years: Sequence[int],
    partials: Mapping[str, Partials] | None = None,
) -> dict[str, FineCells]:
    """The fine cells of each record kind the tables count (see ``_linked``)."""
    out: dict[str, FineCells] = {}
    for group, members in _groups(specs).items():
        dims = fine_dimensions([(s.by, s.where, s.measures) for s in members])
        cols = ["*"]
        cols += dict.fromkeys(
            c for s in members for m in s.measures if additive(m) and (c := column(m)) != "*"
        )
        measures = [(c, ()) for c in cols]
        filters: dict[str, Any] = {}
        if "fiscal_year" in dims:
            filters["fiscal_year"] = list(years)
        if group == "referrals":
            filters["resource_type"] = sorted(profile.code_set("resource_type"))
        source = (partials or {}).get(group)
        # in a stable order (fiscal year first), so that a new year's cells never move an
        # earlier year's: what is withheld in a settled year does not depend on later data
        order = functools.partial(
            _fine_order, dims.index("fiscal_year") if "fiscal_year" in dims else None
        )
        got = (
            source.cell_stats(dims, measures, filters)
            if source is not None
            else store.cell_stats(UNIT, dims, measures, filters)
        )
        stats = sorted(got, key=order)
        # an extra field cannot be a store dimension: each of its filtered values is asked for
        values: dict[str, set[str]] = {}
        for s in members:
            compiled = compile_query(Query(list(s.measures), (), dict(s.where)), profile)
            for key, allowed in compiled.filters.items():
                if key.startswith("extra."):
                    opts = [allowed] if isinstance(allowed, str) else list(allowed)
                    values.setdefault(key, set()).update(map(str, opts))
        parts = {
            (key[len("extra.") :], v): store.cell_stats(UNIT, dims, measures, {**filters, key: [v]})
            for key, vs in values.items()
            for v in sorted(vs)
        }
        out[group] = FineCells(group, dims, cols, stats, parts)
    return out


def _fine_order(at: int | None, stat: Any) -> tuple[Any, ...]:
    vals = stat[0]
    return (vals[at] if at is not None else 0, tuple(map(str, vals)))


def per_year(dims: Sequence[str], kept: Sequence[str]) -> bool:
    """Whether a margin level is published: totals never add fiscal years together.

    Each fiscal year is published as its own table with its own margins, so a small cell in
    the year that has just begun cannot force withholding in earlier, settled years, and a
    later year's release never changes what can be worked out about an earlier one.
    """
    return "fiscal_year" not in dims or "fiscal_year" in kept


def _code(v: Any) -> Any:
    return NOT_RECORDED if v is None else v


# -- step 2: primary suppression ---------------------------------------------------------------


def primary(cells: Cells, policy: SuppressionPolicy) -> list[str | None]:
    """Why each cell is withheld on its own (``None``: it may be published)."""
    dom = _dominance_measure(cells.measures)
    out: list[str | None] = []
    for i in range(len(cells)):
        n, units = cells.records[i], cells.units[i]
        if n == 0:
            out.append(None)  # an empty cell is shown as 0
        elif units < policy.min_consultants or n < policy.min_count:
            out.append("primary")
        elif (
            dom is not None
            and cells.sums[i][dom] > 0
            and (cells.tops[i][dom] / cells.sums[i][dom] > policy.dominance)
        ):
            out.append("dominance")
        else:
            out.append(None)
    return out


def _dominance_measure(measures: Sequence[str]) -> int | None:
    """Hours if the table has them, else its first additive measure."""
    for j, m in enumerate(measures):
        if MEASURES[m].column == "hours":
            return j
    for j, m in enumerate(measures):
        if additive(m):
            return j
    return None


def primary_programs(
    cells: Cells, layouts: Sequence[Layout], policy: SuppressionPolicy, reasons: list[str | None]
) -> None:
    """A count of programs is shown only where its cell passes its thresholds (the cell's
    reason) and it counts at least ``min_consultants`` programs itself: one or two programs
    reached in a year would name them. Such a cell is withheld whole, as a primary cell."""
    for lay in layouts:
        for m in set(lay.spec.measures) & PROGRAMS:
            j = cells.measures.index(m)
            for g in lay.cells:
                if reasons[g] is None and 0 < cells.sums[g][j] < policy.min_consultants:
                    reasons[g] = "primary"


# -- step 4: render ------------------------------------------------------------------------------


def render(
    profile: Profile,
    cells: Cells,
    layout: Layout,
    reasons: Sequence[str | None],
    *,
    years: Sequence[int],
    generated_at: dt.datetime,
    data_version: str | None,
) -> Table:
    spec = layout.spec
    dims = tuple(spec.by)
    pos = [cells.measures.index(m) for m in spec.measures]
    inner: list[TableCell] = []
    margins: list[TableCell] = []
    for coords, i in zip(layout.coords, layout.cells, strict=True):
        reason = reasons[i]
        values: dict[str, float | None] = {
            m: (None if reason is not None else float(cells.sums[i][j]))
            for m, j in zip(spec.measures, pos, strict=True)
        }
        labels = tuple(label(profile, d, v) for d, v in zip(dims, coords, strict=True))
        cell = TableCell(coords, labels, values, reason)
        (margins if cell.margin else inner).append(cell)
    return Table(
        name=spec.name,
        title=spec.title,
        profile=profile.name,
        profile_label=profile.label,
        measures=tuple(spec.measures),
        dims=dims,
        where=dict(spec.where),
        policy=profile.suppression,
        generated_at=generated_at,
        fiscal_years=tuple(years),
        cells=tuple(inner),
        margins=tuple(margins),
        data_version=data_version,
    )


def label(profile: Profile, dim: str, code: Any) -> str:
    if code is None:
        return TOTAL_LABEL
    if code == NOT_RECORDED:
        return "Not recorded"
    if dim == "fiscal_year":
        return f"FY{code}"
    if dim == "quarter":
        return f"Q{code}"
    return profile.code_label(dim, str(code))


# -- the pipeline --------------------------------------------------------------------------------


def families(specs: Sequence[TableSpec]) -> list[list[TableSpec]]:
    """Tables that count the same activities (equal ``where``) share margins."""
    groups: dict[tuple[Any, ...], list[TableSpec]] = {}
    for s in specs:
        groups.setdefault(_where_key(s), []).append(s)
    return list(groups.values())


@attrs.frozen
class Linked:
    """Every cell of a release (published ones, then fine ones), the tables' layouts over
    them, why each is withheld on its own, and the linked systems (``_linked.link``)."""

    cells: Cells
    layouts: list[Layout]
    reasons: list[str | None]
    systems: dict[str, tuple[LinearSystem, BoolArray]]
    exempt: BoolArray
    weight: FloatArray

    def known(self, shown: Mapping[tuple[str, Coords], Mapping[str, Any]]) -> BoolArray:
        """The cells whose value an earlier release published and which still hold it."""
        out = np.zeros(len(self.cells), dtype=bool)
        for lay in self.layouts:
            pos = {m: self.cells.measures.index(m) for m in lay.spec.measures}
            for c, g in zip(lay.coords, lay.cells, strict=True):
                was = shown.get((lay.spec.name, c))
                if was is not None and all(
                    was.get(m) is not None and float(was[m]) == self.cells.sums[g][j]
                    for m, j in pos.items()
                ):
                    out[g] = True
        return out

    def marks(self, withheld: Iterable[tuple[str, Coords]]) -> BoolArray:
        """The cells of the given (table, coords)."""
        out = np.zeros(len(self.cells), dtype=bool)
        marks = set(withheld)
        for lay in self.layouts:
            for c, g in zip(lay.coords, lay.cells, strict=True):
                if (lay.spec.name, c) in marks:
                    out[g] = True
        return out


def build(
    store: Store, profile: Profile, specs: Sequence[TableSpec], years: Sequence[int]
) -> Linked:
    """Aggregate ``specs`` and link them through their fine cells."""
    measures = list(dict.fromkeys(m for s in specs for m in s.measures))
    cells = Cells(measures)
    layouts: list[Layout] = []
    filters: list[dict[str, Any]] = []
    partials = read_partials(store, profile, specs)
    for family in families(specs):
        group = record_group(family[0].by, family[0].where)
        _, lays = aggregate(store, profile, family, years, cells, partials[group])
        layouts.extend(lays)
        filters.extend(_filters(profile, family) for _ in lays)
    reasons = primary(cells, profile.suppression)
    primary_programs(cells, layouts, profile.suppression, reasons)
    fine: dict[str, tuple[FineCells, int]] = {}
    for group, fc in fine_cells(store, profile, specs, years, partials).items():
        first = len(cells)
        for tag, vals, n, sums, tops in zip(
            fc.tags,
            fc.values,
            fc.records,
            zip(*(fc.sums[c] for c in fc.columns), strict=True),
            zip(*(fc.tops[c] for c in fc.columns), strict=True),
            strict=True,
        ):
            cells.add((FINE, group, tag, *vals), (int(n), 0, tuple(sums), tuple(tops)))
        fine[group] = (fc, first)
    reasons.extend([None] * (len(cells) - len(reasons)))
    systems, exempt, weight = link(cells, layouts, filters, fine, min_hours=MIN_HOURS)
    return Linked(cells, layouts, reasons, systems, exempt, weight)


def release_tables(
    store: Store,
    profile: Profile,
    specs: Sequence[TableSpec],
    *,
    years: Sequence[int],
    generated_at: dt.datetime | None = None,
    data_version: str | None = None,
    earlier: Iterable[tuple[str, Coords]] = (),
    shown: Mapping[tuple[str, Coords], Mapping[str, Any]] | None = None,
    report: dict[str, Any] | None = None,
) -> dict[str, Table]:
    """Aggregate, suppress and render ``specs``, all in one linked system (``_linked``).

    ``earlier``: (table, coords) of cells withheld by an earlier release of the same data;
    they stay withheld, so that two releases cannot be differenced. ``shown``: what earlier
    releases published of each (table, coords); a cell still holding that value is known to
    the attacker, so it can hide nothing and is never chosen as a complement. ``report`` (a dict)
    receives the certification: pass or fail, how many values are withheld, and the
    narrowest certified interval as a share of its protection interval (no true value)."""
    at = generated_at or dt.datetime.now(dt.UTC)
    lk = build(store, profile, specs, years)
    before = lk.marks(earlier)
    known = lk.known(shown or {})
    for sys_, _ in lk.systems.values():
        sys_.lo[known], sys_.hi[known] = sys_.x[known], sys_.x[known]
    reasons, prot = complementary(
        lk.cells,
        lk.layouts,
        lk.reasons,
        profile.suppression,
        linked=(lk.systems, lk.exempt, lk.weight),
        earlier=before,
        fixed=known,
    )
    if report is not None:
        report.update(prot.summary())
    flags = [WITHHELD if r is not None or before[i] else None for i, r in enumerate(reasons)]
    out = {
        lay.spec.name: render(
            profile, lk.cells, lay, flags, years=years, generated_at=at, data_version=data_version
        )
        for lay in lk.layouts
    }
    return {s.name: out[s.name] for s in specs}
