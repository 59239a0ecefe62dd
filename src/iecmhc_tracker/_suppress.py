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
  (clamped at 0) in every additive measure. Distinct counts (``consultants``) are not
  additive; they follow the pattern but are not part of the linear audit.
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
import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from ._audit import (
    BoolArray,
    Equation,
    FloatArray,
    LinearSystem,
    Reduced,
    additive,
    lattice_equations,
    required_bounds,
)
from ._errors import TrackerError
from ._measures import MEASURES
from ._profile import Profile, SuppressionPolicy, TableSpec
from ._query import Query, compile_query
from ._table import NOT_RECORDED, TOTAL_LABEL, Coords, Table, TableCell
from .stores import CellStat, Store

Key = tuple[tuple[str, Any], ...]  # sorted (dimension, code) pairs a cell fixes
UNIT = "consultant"


# -- step 1: aggregate -------------------------------------------------------------------------


class _Cells:
    """Stats of every cell (inner and margins) of a family of tables, one row per cell."""

    def __init__(self, measures: Sequence[str]) -> None:
        self.measures = tuple(measures)
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}
        self.records: list[int] = []
        self.units: list[int] = []
        self.sums: list[tuple[float, ...]] = []
        self.tops: list[tuple[float, ...]] = []

    def add(self, key: Key, stat: tuple[int, int, tuple[float, ...], tuple[float, ...]]) -> int:
        if key not in self.index:
            self.index[key] = len(self.keys)
            self.keys.append(key)
            self.records.append(stat[0])
            self.units.append(stat[1])
            self.sums.append(stat[2])
            self.tops.append(stat[3])
        return self.index[key]

    def __len__(self) -> int:
        return len(self.keys)


class _Layout:
    """One table of a family: its coordinates (inner cells, then margins) and their cells."""

    def __init__(self, spec: TableSpec, coords: list[Coords], cells: list[int]) -> None:
        self.spec = spec
        self.coords = coords
        self.cells = cells


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
    store: Store, profile: Profile, specs: Sequence[TableSpec], years: Sequence[int]
) -> tuple[_Cells, list[_Layout]]:
    """Per-cell stats for tables sharing one ``where``, every margin level included."""
    measures = list(dict.fromkeys(m for s in specs for m in s.measures))
    compiled = compile_query(Query(measures, (), dict(specs[0].where)), profile)
    filters = dict(compiled.filters)
    if any("resource_type" in s.by for s in specs) and "resource_type" not in filters:
        # a table by resource type counts referrals: its margins must count the same
        # (row, referral) records as its cells, not every activity of the period
        filters["resource_type"] = sorted(profile.code_set("resource_type"))
    cells = _Cells(measures)
    calls: dict[tuple[str, ...], dict[Key, CellStat]] = {}
    layouts = []
    for spec in specs:
        dims = tuple(spec.by)
        stats: dict[Key, CellStat] = {}
        for r in range(len(dims) + 1):
            for subset in itertools.combinations(sorted(dims), r):
                if not _per_year(dims, subset):
                    continue
                if subset not in calls:
                    got = store.cell_stats(UNIT, subset, compiled.measures, filters)
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
            if _per_year(dims, tuple(dims[i] for i in kept))
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
            idx.append(cells.add(key, zero if stat is None else stat[1:]))
        layouts.append(_Layout(spec, coords, idx))
    return cells, layouts


def _per_year(dims: Sequence[str], kept: Sequence[str]) -> bool:
    """Whether a margin level is published: totals never add fiscal years together.

    Each fiscal year is published as its own table with its own margins, so a small cell in
    the year that has just begun cannot force withholding in earlier, settled years, and a
    later year's release never changes what can be worked out about an earlier one.
    """
    return "fiscal_year" not in dims or "fiscal_year" in kept


def _code(v: Any) -> Any:
    return NOT_RECORDED if v is None else v


# -- step 2: primary suppression ---------------------------------------------------------------


def primary(cells: _Cells, policy: SuppressionPolicy) -> list[str | None]:
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


# -- step 3: complementary suppression ---------------------------------------------------------


def systems(cells: _Cells, layouts: Sequence[_Layout]) -> dict[str, tuple[LinearSystem, BoolArray]]:
    """Per additive measure: its linear system over the family's cells, and which cells
    publish it."""
    out: dict[str, tuple[LinearSystem, BoolArray]] = {}
    for j, m in enumerate(cells.measures):
        if not additive(m):
            continue
        x = np.array([s[j] for s in cells.sums], dtype=float)
        present = np.zeros(len(cells), dtype=bool)
        eqs: list[Equation] = []
        for lay in layouts:
            if m not in lay.spec.measures:
                continue
            present[lay.cells] = True
            eqs.extend(
                (lay.cells[p], tuple(lay.cells[c] for c in ch))
                for p, ch in lattice_equations(lay.coords)
            )
        out[m] = (LinearSystem(x, eqs), present)
    return out


class Protector:
    """The audit-and-repair loop of complementary suppression (see the module docstring)."""

    def __init__(
        self,
        systems: Mapping[str, tuple[LinearSystem, BoolArray]],
        withheld: BoolArray,
        policy: SuppressionPolicy,
    ) -> None:
        self.systems = dict(systems)
        self.withheld = withheld.copy()
        self.need_lo: dict[str, FloatArray] = {}
        self.need_hi: dict[str, FloatArray] = {}
        self.best_lo: dict[str, FloatArray] = {}
        self.best_hi: dict[str, FloatArray] = {}
        for m, (sys_, present) in self.systems.items():
            lo, hi = required_bounds(sys_.x, policy)
            self.need_lo[m], self.need_hi[m] = lo, hi
            self.best_lo[m] = sys_.x.copy()
            self.best_hi[m] = sys_.x.copy()
            # a withheld cell outside every relation (or outside this measure) is unknowable
            free = ~sys_.linked | ~present
            self.best_hi[m][free] = np.inf
            self.best_lo[m][free] = 0.0
        self._reduced: dict[str, Reduced] = {}
        self.lp_solves = 0
        self.repairs = 0

    def run(self, lattices: Sequence[Lattice] = ()) -> BoolArray:
        """Withhold complementary cells until every withheld value is protected; returns
        the new pattern. ``lattices`` (the family's tables) enable the fast box pass."""
        if self.withheld.any():
            self._seed()
            if lattices:
                self._boxes(lattices)
            self._batch_certify()
        # every withheld cell, those the box pass added included, is certified or repaired
        queue = deque(int(i) for i in np.flatnonzero(self.withheld))
        while queue:
            c = queue.popleft()
            for m in self.systems:
                for up in (True, False):
                    queue.extend(self._ensure(c, m, up))
        return self.withheld

    def _boxes(self, lattices: Sequence[Lattice]) -> None:
        """The fast first pass: protect each uncertified withheld cell with the cheapest
        box of its table (2**k cells with alternating signs, margins included, which moves
        the cell both ways without changing any other published number)."""
        where: dict[int, tuple[Lattice, tuple[int, ...]]] = {}
        for lat in lattices:
            for g, pos in lat.positions.items():
                where.setdefault(g, (lat, pos))
        queue = deque(int(i) for i in np.flatnonzero(self.withheld))
        done: set[int] = set()
        while queue:
            c = queue.popleft()
            if c in done or c not in where:
                continue
            done.add(c)
            if all(self._certified(c, m, up) for m in self.systems for up in (True, False)):
                continue
            lat, pos = where[c]
            box = lat.best_box(pos, self)
            if box is None:
                continue  # left to the exact loop
            corners, signs, up_room, down_room = box
            new = corners[~self.withheld[corners]]
            self.withheld[corners] = True
            if len(new):
                self._reduced.clear()
                queue.extend(int(i) for i in new)
            for m in lat.measures:
                x = self.systems[m][0].x
                for room, sign in ((up_room[m], 1.0), (down_room[m], -1.0)):
                    step = room if np.isfinite(room) else 4.0 * (self.need_hi[m][c] + 1.0)
                    point = x.copy()
                    point[corners] += sign * step * signs
                    self._witness(m, point)

    def _certified(self, c: int, m: str, up: bool) -> bool:
        if up:
            need = self.need_hi[m][c]
            return bool(self.best_hi[m][c] >= need - 1e-7 * max(1.0, need))
        need = self.need_lo[m][c]
        return bool(self.best_lo[m][c] <= need + 1e-7 * max(1.0, need))

    def _witness(self, m: str, point: FloatArray) -> None:
        np.maximum(self.best_hi[m], point, out=self.best_hi[m])
        np.minimum(self.best_lo[m], point, out=self.best_lo[m])

    def _red(self, m: str) -> Reduced:
        if m not in self._reduced:
            self._reduced[m] = self.systems[m][0].reduced(self.withheld)
        return self._reduced[m]

    def _seed(self) -> None:
        # a few far-apart points of the attacker's feasible set certify most cells at once
        for m, (sys_, _) in self.systems.items():
            red = self._red(m)
            scale = 1.0 / (self.need_hi[m] - self.need_lo[m] + 1.0)
            sign = np.where((np.arange(sys_.n) * 2654435761) % 7 < 3, 1.0, -1.0)
            for w in (-scale, scale, -scale * sign, scale * sign):
                point = self._bounded_point(red, m, w)
                if point is not None:
                    self._witness(m, point)

    def _batch_certify(self, rounds: int = 2) -> None:
        """One LP per measure pushing every uncertified value its way at once: a single
        point of the feasible set often certifies many cells (cheaper than one LP each)."""
        for _ in range(rounds):
            progress = False
            for m, (sys_, _) in self.systems.items():
                cells = np.flatnonzero(self.withheld)
                ups = [int(c) for c in cells if not self._certified(int(c), m, True)]
                downs = [int(c) for c in cells if not self._certified(int(c), m, False)]
                if not ups and not downs:
                    continue
                w = np.zeros(sys_.n)
                w[ups] -= 1.0 / (self.need_hi[m][ups] - sys_.x[ups] + 1.0)
                w[downs] += 1.0 / (sys_.x[downs] - self.need_lo[m][downs] + 1.0)
                point = self._bounded_point(self._red(m), m, w)
                if point is not None:
                    self._witness(m, point)
                    progress = True
            if not progress:
                return

    def _bounded_point(self, red: Reduced, m: str, w: FloatArray) -> FloatArray | None:
        if len(red.vars) == 0 or red.Aw.shape[0] == 0:
            return None
        # an upper bound keeps the LP bounded; any point inside is still a witness
        upper = 2.0 * self.need_hi[m][red.vars] + 1.0
        res = linprog(
            w[red.vars],
            A_eq=red.Aw,
            b_eq=red.b,
            bounds=np.column_stack([np.zeros(len(red.vars)), upper]),
            method="highs",
        )
        self.lp_solves += 1
        if res.status != 0:
            return None
        point = red.system.x.copy()
        point[red.vars] = res.x
        return point

    def _ensure(self, c: int, m: str, up: bool) -> list[int]:
        """Make sure withheld cell ``c`` is protected in measure ``m`` (upward or downward);
        returns the cells newly withheld for it."""
        if self._certified(c, m, up):
            return []
        value, point = self._red(m).extreme(c, maximize=up)
        self.lp_solves += 1
        if point is None:
            if up:
                self.best_hi[m][c] = value
            else:
                self.best_lo[m][c] = value
        else:
            self._witness(m, point)
        if self._certified(c, m, up):
            return []
        return self._repair(c, m, up)

    def _repair(self, c: int, m: str, up: bool) -> list[int]:
        sys_, present = self.systems[m]
        x = sys_.x
        n = sys_.n
        amount = (self.need_hi[m][c] - x[c]) if up else (x[c] - self.need_lo[m][c])
        cost = np.where(self.withheld, 0.0, 1.0 + np.abs(x))
        u_hi = np.where(present, np.inf, 0.0)
        l_hi = np.where(present, x, 0.0)
        u_lo = np.zeros(n)
        l_lo = np.zeros(n)
        if up:
            u_lo[c], l_hi[c] = amount, 0.0
        else:
            u_hi[c], l_lo[c] = 0.0, amount
        A = sparse.hstack([sys_.A, -sys_.A]).tocsc()
        res = linprog(
            np.concatenate([cost, cost]),
            A_eq=A,
            b_eq=np.zeros(A.shape[0]),
            bounds=np.column_stack([np.concatenate([u_lo, l_lo]), np.concatenate([u_hi, l_hi])]),
            method="highs",
        )
        self.lp_solves += 1
        self.repairs += 1
        if res.status != 0:
            raise TrackerError(f"complementary suppression could not be solved ({res.message})")
        y = res.x[:n] - res.x[n:]
        moved = np.abs(y) > 1e-7 * max(1.0, amount)
        new = np.flatnonzero(moved & ~self.withheld)
        if len(new) == 0:
            # the exact LP and the repair disagree only within tolerance: accept the witness
            self._witness(m, x + y)
            if up:
                self.best_hi[m][c] = max(self.best_hi[m][c], self.need_hi[m][c])
            else:
                self.best_lo[m][c] = min(self.best_lo[m][c], self.need_lo[m][c])
            return []
        self.withheld[new] = True
        self._reduced.clear()
        self._witness(m, x + y)
        return [int(i) for i in new]


class Lattice:
    """One table's cells on a grid with an extra "total" slot per dimension, for the box
    pass. Cells shared with another table of the family are kept out of boxes: moving them
    would change that table's relations too."""

    def __init__(self, layout: _Layout, shared: BoolArray, measures: Sequence[str]) -> None:
        k = len(layout.spec.by)
        domains: list[dict[Any, int]] = [{} for _ in range(k)]
        for c in layout.coords:
            if None not in c:
                for d in range(k):
                    domains[d].setdefault(c[d], len(domains[d]))
        self.k = k
        self.shape = tuple(len(dom) + 1 for dom in domains)
        self.cell = np.full(self.shape, -1, dtype=np.int64)
        self.positions: dict[int, tuple[int, ...]] = {}
        for c, g in zip(layout.coords, layout.cells, strict=True):
            pos = tuple(len(domains[d]) if v is None else domains[d][v] for d, v in enumerate(c))
            self.cell[pos] = g
            self.positions[g] = pos
        self.blocked = shared
        self.measures = [m for m in layout.spec.measures if m in measures]
        self._grids: dict[str, FloatArray] | None = None
        self._blocked: BoolArray = np.zeros(0, dtype=bool)
        self._base_cost: FloatArray = np.zeros(0)

    def best_box(
        self, a: tuple[int, ...], prot: Protector
    ) -> tuple[npt.NDArray[np.int64], FloatArray, dict[str, float], dict[str, float]] | None:
        """The cheapest box through ``a`` that protects it both ways in every measure:
        its cells, their signs and how far it can move the cell up and down."""
        if self.k == 0 or not self.measures or self.blocked[self.cell[a]]:
            return None
        k = self.k
        # boxes are indexed by their other corner b (b_d == a_d is not a box: masked out)
        flip = []
        for d, n in enumerate(self.shape):
            f = np.where((np.arange(n) == n - 1) != (a[d] == n - 1), 1.0, -1.0)
            flip.append(f.reshape([-1 if e == d else 1 for e in range(k)]))
        if self._grids is None:
            self._grids = {m: prot.systems[m][0].x[self.cell] for m in self.measures}
            # a slot with no cell (fiscal years have no total across years) is never a corner
            self._blocked = self.blocked[self.cell] | (self.cell < 0)
            self._base_cost = 1.0 + np.abs(self._grids[self.measures[0]])
        grids, blocked = self._grids, self._blocked
        cost_grid = np.where(prot.withheld[self.cell], 0.0, self._base_cost)
        cost = np.zeros(self.shape)
        bad = np.zeros(self.shape, dtype=bool)
        for d in range(k):
            hit = np.zeros(self.shape[d], dtype=bool)
            hit[a[d]] = True
            bad |= hit.reshape([-1 if e == d else 1 for e in range(k)])
        up = {m: np.full(self.shape, np.inf) for m in self.measures}
        down = {m: np.full(self.shape, np.inf) for m in self.measures}
        patterns = list(itertools.product((0, 1), repeat=k))
        for p in patterns:
            sl = tuple(slice(None) if p[d] else slice(a[d], a[d] + 1) for d in range(k))
            sign = np.ones([1] * k)
            for d in range(k):
                if p[d]:
                    sign = sign * flip[d]
            bad |= blocked[sl]
            cost += cost_grid[sl]
            for m in self.measures:
                v = grids[m][sl]
                up[m] = np.minimum(up[m], np.where(sign < 0, v, np.inf))
                down[m] = np.minimum(down[m], np.where(sign > 0, v, np.inf))
        c = int(self.cell[a])
        ok = ~bad
        for m in self.measures:
            x = prot.systems[m][0].x
            ok &= up[m] >= prot.need_hi[m][c] - x[c]
            ok &= down[m] >= x[c] - prot.need_lo[m][c]
        if not ok.any():
            return None
        best = np.unravel_index(int(np.argmin(np.where(ok, cost, np.inf))), self.shape)
        corners = []
        signs = []
        for p in patterns:
            pos = tuple(int(best[d]) if p[d] else a[d] for d in range(k))
            corners.append(int(self.cell[pos]))
            sg = 1.0
            for d in range(k):
                if p[d]:
                    sg *= float(flip[d].ravel()[best[d]])
            signs.append(sg)
        return (
            np.array(corners, dtype=np.int64),
            np.array(signs),
            {m: float(up[m][best]) for m in self.measures},
            {m: float(down[m][best]) for m in self.measures},
        )


def complementary(
    cells: _Cells, layouts: Sequence[_Layout], reasons: list[str | None], policy: SuppressionPolicy
) -> tuple[list[str | None], Protector]:
    """Add ``"complementary"`` reasons until the family's audit passes."""
    withheld = np.array([r is not None for r in reasons], dtype=bool)
    linear = systems(cells, layouts)
    prot = Protector(linear, withheld, policy)
    uses = np.zeros(len(cells), dtype=np.int64)
    for lay in layouts:
        uses[np.unique(lay.cells)] += 1
    shared = uses > 1
    final = prot.run([Lattice(lay, shared, list(linear)) for lay in layouts])
    out = [
        r if r is not None else ("complementary" if final[i] else None)
        for i, r in enumerate(reasons)
    ]
    return out, prot


# -- step 4: render ------------------------------------------------------------------------------


def render(
    profile: Profile,
    cells: _Cells,
    layout: _Layout,
    reasons: Sequence[str | None],
    *,
    years: Sequence[int],
    generated_at: dt.datetime,
    data_version: int | None,
) -> Table:
    spec = layout.spec
    dims = tuple(spec.by)
    pos = [cells.measures.index(m) for m in spec.measures]
    inner: list[TableCell] = []
    margins: list[TableCell] = []
    truth: dict[Coords, dict[str, float]] = {}
    for coords, i in zip(layout.coords, layout.cells, strict=True):
        reason = reasons[i]
        true = {m: float(cells.sums[i][j]) for m, j in zip(spec.measures, pos, strict=True)}
        values: dict[str, float | None] = {
            m: (None if reason is not None else v) for m, v in true.items()
        }
        if reason is not None:
            truth[coords] = true
        labels = tuple(_label(profile, d, v) for d, v in zip(dims, coords, strict=True))
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
        truth=truth,
    )


def _label(profile: Profile, dim: str, code: Any) -> str:
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
        key = tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in s.where.items()))
        groups.setdefault(key, []).append(s)
    return list(groups.values())


def release_tables(
    store: Store,
    profile: Profile,
    specs: Sequence[TableSpec],
    *,
    years: Sequence[int],
    generated_at: dt.datetime | None = None,
    data_version: int | None = None,
) -> dict[str, Table]:
    """Aggregate, suppress and render ``specs`` (released together per family)."""
    at = generated_at or dt.datetime.now(dt.UTC)
    out: dict[str, Table] = {}
    for family in families(specs):
        cells, layouts = aggregate(store, profile, family, years)
        reasons, _ = complementary(
            cells, layouts, primary(cells, profile.suppression), profile.suppression
        )
        for lay in layouts:
            out[lay.spec.name] = render(
                profile,
                cells,
                lay,
                reasons,
                years=years,
                generated_at=at,
                data_version=data_version,
            )
    return {s.name: out[s.name] for s in specs}
