"""The suppression auditor: how well is each withheld cell hidden by what is published?

An attacker knows every published number of a table (inner cells and margins), that margins
add up, and that values are never negative. For each withheld cell the feasible values form an
interval ``[low, high]``, found exactly by linear programming (scipy's ``linprog`` with HiGHS).
A withheld cell is protected when that interval reaches at least its *protection interval*:
``value ± max(protection × value, min_count)`` (clamped at zero below). The same LP machinery
(:class:`LinearSystem`) serves the complementary suppression in ``_suppress``.

The auditor needs the true values of withheld cells, which no published table carries: the
data steward's :func:`~iecmhc_tracker.audit_suppression` reads them from the store, and
``audit_tables`` takes them as an argument. The report states required intervals derived from
true values: it is for the data steward, not for publication.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from ._errors import TrackerError
from ._measures import MEASURES
from ._profile import SuppressionPolicy
from ._table import Coords, Table
from ._tablespec import where_key

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Equation = tuple[int, tuple[int, ...]]  # parent = sum(children)

#: relative slack when comparing LP optima with requirements (LP tolerances are ~1e-7)
TOLERANCE = 1e-6


def additive(measure: str) -> bool:
    """Measures whose margins are sums of their cells (distinct counts are not)."""
    return not MEASURES[measure].distinct_units


def lattice_equations(coords: Sequence[Coords]) -> list[Equation]:
    """Every ``total = sum of its parts`` relation among cells of one table.

    ``coords`` lists the table's cells, ``None`` marking a total over that dimension; each
    cell with a ``None`` at dimension ``d`` equals the sum of the cells that fill ``d`` with
    each of its values (so a 3-dimensional table yields all its 2- and 1-dimensional margins'
    relations)."""
    index = {c: i for i, c in enumerate(coords)}
    k = len(coords[0]) if coords else 0
    domains: list[list[Any]] = [[] for _ in range(k)]
    for c in coords:
        if all(x is not None for x in c):
            for d in range(k):
                if c[d] not in domains[d]:
                    domains[d].append(c[d])
    eqs: list[Equation] = []
    for i, c in enumerate(coords):
        for d in range(k):
            if c[d] is None:
                children = [index.get((*c[:d], v, *c[d + 1 :])) for v in domains[d]]
                if all(j is not None for j in children):
                    eqs.append((i, tuple(j for j in children if j is not None)))
    return eqs


def equation_matrix(n: int, equations: Sequence[Equation]) -> sparse.csr_matrix:
    """Rows ``parent - sum(children) = 0``."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, (parent, children) in enumerate(equations):
        rows.append(r)
        cols.append(parent)
        vals.append(1.0)
        for ch in children:
            rows.append(r)
            cols.append(ch)
            vals.append(-1.0)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(equations), n))


def protection_width(x: FloatArray, policy: SuppressionPolicy) -> FloatArray:
    """How far (each way) a withheld value must stay uncertain."""
    return np.maximum(policy.protection * np.abs(x), float(policy.min_count))


def required_bounds(x: FloatArray, policy: SuppressionPolicy) -> tuple[FloatArray, FloatArray]:
    """The protection interval: the feasible interval must reach below ``low`` (or 0) and
    above ``high``."""
    w = protection_width(x, policy)
    return np.maximum(x - w, 0.0), x + w


def _slack(v: FloatArray | float) -> FloatArray:
    return TOLERANCE * np.maximum(1.0, np.abs(v))


class LinearSystem:
    """One measure's additive relations over a set of cells, with the true values.

    ``reduced(withheld)`` gives the attacker's problem: withheld cells are unknowns ``>= 0``,
    published ones constants."""

    def __init__(
        self,
        x: FloatArray,
        equations: Sequence[Equation],
        *,
        lo: FloatArray | None = None,
        hi: FloatArray | None = None,
    ) -> None:
        self.x = np.asarray(x, dtype=float)
        self.n = len(self.x)
        #: what the attacker knows of each unknown beyond the equations (default [0, inf))
        self.lo = np.zeros(self.n) if lo is None else np.asarray(lo, dtype=float)
        self.hi = np.full(self.n, np.inf) if hi is None else np.asarray(hi, dtype=float)
        self.A = equation_matrix(self.n, equations)
        self.A_csc = self.A.tocsc()
        #: cells that take part in some relation (others are unconstrained when withheld)
        self.linked = np.asarray(abs(self.A).sum(axis=0)).ravel() > 0

    def reduced(self, withheld: BoolArray) -> Reduced:
        return Reduced(self, withheld)

    def intervals(self, withheld: BoolArray) -> tuple[FloatArray, FloatArray]:
        """Exact feasible [low, high] of every withheld cell (NaN for published ones)."""
        red = self.reduced(withheld)
        low = np.full(self.n, np.nan)
        high = np.full(self.n, np.nan)
        for j in np.flatnonzero(withheld):
            low[j] = red.extreme(int(j), maximize=False)[0]
            high[j] = red.extreme(int(j), maximize=True)[0]
        return low, high


class Reduced:
    """The attacker's linear program for one pattern of withheld cells, split into
    independent components so each LP is small."""

    def __init__(self, system: LinearSystem, withheld: BoolArray) -> None:
        self.system = system
        self.vars = np.flatnonzero(withheld)
        self.pos = np.full(system.n, -1)
        self.pos[self.vars] = np.arange(len(self.vars))
        A = system.A_csc
        Aw = A[:, self.vars].tocsr()
        published = ~withheld
        b = -(A[:, np.flatnonzero(published)] @ system.x[published])
        keep = np.flatnonzero(np.diff(Aw.indptr) > 0)
        self.Aw = Aw[keep].tocsc()
        self.b = np.asarray(b)[keep]
        self.bounds = np.column_stack([system.lo[self.vars], system.hi[self.vars]])
        nv, ne = len(self.vars), len(keep)
        # bipartite graph variables <-> equations: a component is one independent sub-LP
        incidence = (self.Aw != 0).astype(np.int8).tocoo()
        graph = sparse.coo_matrix(
            (np.ones(incidence.nnz), (incidence.col, nv + incidence.row)), shape=(nv + ne,) * 2
        )
        _, labels = connected_components(graph, directed=False)
        self.var_comp = labels[:nv]
        self.eq_comp = labels[nv:]
        self._cache: dict[int, tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]] = {}
        self._models: dict[int, Model] = {}

    def component(self, j: int) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]:
        """Local variable and equation indices of the component holding cell ``j``."""
        comp = int(self.var_comp[self.pos[j]])
        if comp not in self._cache:
            self._cache[comp] = (
                np.flatnonzero(self.var_comp == comp),
                np.flatnonzero(self.eq_comp == comp),
            )
        return self._cache[comp]

    def extreme(self, j: int, *, maximize: bool) -> tuple[float, FloatArray | None]:
        """The largest (or smallest) feasible value of withheld cell ``j`` and a full-length
        point of the feasible set attaining it (``None`` when unbounded)."""
        lo, hi = float(self.system.lo[j]), float(self.system.hi[j])
        if not self.system.linked[j]:
            return (hi, None) if maximize else (lo, None)
        local, eqs = self.component(j)
        if len(eqs) == 0:
            return (hi, None) if maximize else (lo, None)
        c = np.zeros(len(local))
        c[np.searchsorted(local, self.pos[j])] = -1.0 if maximize else 1.0
        return self._solve(local, eqs, c, j, maximize)

    def optimise(self, weights: FloatArray) -> FloatArray | None:
        """A feasible point minimising ``weights · z`` over the withheld cells (bounded
        components only); used to find many witnesses at once."""
        point = self.system.x.copy()
        A = self.Aw
        res = linprog(weights[self.vars], A_eq=A, b_eq=self.b, bounds=self.bounds, method="highs")
        if res.status != 0:
            return None
        point[self.vars] = res.x
        return point

    def _solve(
        self,
        local: npt.NDArray[np.int_],
        eqs: npt.NDArray[np.int_],
        c: FloatArray,
        j: int,
        maximize: bool,
    ) -> tuple[float, FloatArray | None]:
        comp = int(self.var_comp[self.pos[j]])
        model = self._models.get(comp)
        if model is None:
            model = self._models[comp] = Model(
                self.Aw[eqs][:, local].tocsc(), self.b[eqs], self.bounds[local]
            )
        status, x = model.extreme(int(np.searchsorted(local, self.pos[j])), maximize=maximize)
        if status not in ("optimal", "unbounded"):
            # a warm start that lost its way (HiGHS says "unknown"): solve this one afresh
            del self._models[comp]
            status, x = self._cold(local, eqs, c)
        if status == "unbounded":
            return np.inf, None
        if status != "optimal":
            raise TrackerError(
                f"the suppression audit could not solve its linear program ({status}); "
                "the published numbers may be inconsistent"
            )
        point = self.system.x.copy()
        point[self.vars[local]] = x
        return float(point[j]), point

    def _cold(
        self, local: npt.NDArray[np.int_], eqs: npt.NDArray[np.int_], c: FloatArray
    ) -> tuple[str, FloatArray]:
        res = linprog(c, A_eq=self.Aw[eqs][:, local], b_eq=self.b[eqs], bounds=self.bounds[local])
        if res.status == 3:
            return "unbounded", np.zeros(0)
        if res.status != 0:
            return str(res.message), np.zeros(0)
        return "optimal", np.asarray(res.x, dtype=float)


#: HiGHS' simplex variants: after a new objective the last basis is still primal feasible,
#: so the primal simplex goes on from it (measured: 5x faster than the dual on the audit);
#: after new bounds it is still dual feasible, and the dual simplex goes on from it
PRIMAL, DUAL = 4, 1


class Model:
    """One component's LP kept in HiGHS between solves: pushing one cell after another up
    and down changes only the objective, so each solve starts from the last basis (a warm
    start is several times faster than solving afresh)."""

    def __init__(self, A: sparse.csc_matrix, b: FloatArray, bounds: FloatArray) -> None:
        # the bare solver: the wrapper class prints a banner and sets up callbacks unused here
        h = highspy._Highs()  # type: ignore[attr-defined]
        h.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        n, m = A.shape[1], A.shape[0]
        inf = highspy.kHighsInf
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.asarray(bounds[:, 0], dtype=float)
        lp.col_upper_ = np.where(np.isinf(bounds[:, 1]), inf, bounds[:, 1]).astype(float)
        lp.row_lower_ = np.asarray(b, dtype=float)
        lp.row_upper_ = np.asarray(b, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        h.passModel(lp)
        self._h = h
        self.matrix = A
        self._strategy = DUAL
        self._last: int | None = None

    def set_bounds(self, cols: npt.NDArray[np.int_], lo: FloatArray, hi: FloatArray) -> None:
        """New bounds for some columns (a cell withheld: from its value to what is known)."""
        inf = highspy.kHighsInf
        for k, a, b in zip(cols, lo, hi, strict=True):
            self._h.changeColBounds(int(k), float(a), inf if np.isinf(b) else float(b))

    def extreme(self, k: int, *, maximize: bool) -> tuple[str, FloatArray]:
        h = self._h
        if self._last is not None and self._last != k:
            h.changeColCost(self._last, 0.0)
        h.changeColCost(k, 1.0)
        self._last = k
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        )
        return self._run(PRIMAL)

    def minimise(self, cost: FloatArray) -> tuple[str, FloatArray]:
        """A point minimising ``cost · z``, warm-started from the last solve."""
        h = self._h
        n = len(cost)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))
        self._last = None
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        status, x = self._run(PRIMAL)
        # the next single-cell objective starts from zero costs again
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        return status, x

    def solve(self, cost: FloatArray, bounds: FloatArray) -> tuple[str, FloatArray]:
        """A point minimising ``cost · z`` within new bounds for every column, warm-started
        from the last solve (a new objective and new bounds leave the basis usable)."""
        h = self._h
        n = len(cost)
        idx = np.arange(n, dtype=np.int32)
        upper = np.where(np.isinf(bounds[:, 1]), highspy.kHighsInf, bounds[:, 1])
        h.changeColsBounds(n, idx, np.asarray(bounds[:, 0], dtype=float), upper.astype(float))
        h.changeColsCost(n, idx, np.asarray(cost, dtype=float))
        self._last = None
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        return self._run(DUAL)

    def _run(self, strategy: int) -> tuple[str, FloatArray]:
        h = self._h
        if strategy != self._strategy:
            h.setOptionValue("simplex_strategy", strategy)
            self._strategy = strategy
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal", np.asarray(h.getSolution().col_value, dtype=float)
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return "unbounded", np.zeros(0)
        return h.modelStatusToString(status), np.zeros(0)


# -- the public auditor ------------------------------------------------------------------------


@attrs.frozen(slots=True)
class CellAudit:
    """One withheld value: what an attacker can narrow it to, and what the policy asks."""

    table: str
    coords: Coords
    labels: tuple[str, ...]
    measure: str
    reason: str
    low: float
    high: float
    required_low: float
    required_high: float

    @property
    def exact(self) -> bool:
        """The published numbers determine the value exactly."""
        return bool(np.isfinite(self.high) and self.high - self.low <= _slack(self.high))

    @property
    def ok(self) -> bool:
        return bool(
            self.low <= self.required_low + _slack(self.required_low)
            and self.high >= self.required_high - _slack(self.required_high)
        )


@attrs.frozen(slots=True)
class AuditReport:
    """The audit of one or more tables: an entry per withheld value (cell × measure).

    Internal: ``required_low``/``required_high`` derive from true values; do not publish."""

    tables: tuple[str, ...]
    cells: tuple[CellAudit, ...]
    withheld: Mapping[str, int] = attrs.field(hash=False)

    @property
    def failures(self) -> tuple[CellAudit, ...]:
        """Withheld values an attacker can narrow inside their protection interval."""
        return tuple(c for c in self.cells if not c.ok)

    @property
    def exact(self) -> tuple[CellAudit, ...]:
        """Withheld values the published numbers give away exactly."""
        return tuple(c for c in self.cells if c.exact)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        head = (
            f"audit of {', '.join(self.tables)}: {len(self.cells)} withheld values, "
            f"{len(self.failures)} under-protected"
        )
        lines = [head] + [
            f"  {c.table} {'/'.join(c.labels)} {c.measure}: feasible [{c.low:.6g}, "
            f"{c.high:.6g}] narrower than required [{c.required_low:.6g}, "
            f"{c.required_high:.6g}]"
            for c in self.failures[:20]
        ]
        return "\n".join(lines)


def cell_key(table: Table, coords: Coords) -> tuple[Any, ...]:
    """What a cell counts, independent of how a table lays it out: the single-valued
    filters and codes it fixes, plus the table's other filters."""
    fixed = {k: v[0] for k, v in table.where.items() if len(v) == 1}
    fixed.update({d: c for d, c in zip(table.dims, coords, strict=True) if c is not None})
    multi = where_key({k: v for k, v in table.where.items() if len(v) != 1})
    return (tuple(sorted((k, str(v)) for k, v in fixed.items())), multi)


Truth = Mapping[tuple[str, Coords], Mapping[str, float]]


def audit_tables(tables: Sequence[Table], truth: Truth) -> AuditReport:
    """Audit tables of one release together, linked by the margins they share: for every
    withheld value, its feasible [low, high] given all published numbers and non-negativity,
    and whether that covers the required protection interval. ``truth[(table, coords)]``
    holds each withheld cell's true values (a steward's, never a published table's)."""
    table = tables[0]
    policy = table.policy
    keys: dict[tuple[Any, ...], int] = {}
    owners: list[tuple[Table, Coords]] = []
    placed: list[list[int]] = []
    for t in tables:
        idx = []
        for c in t.all_cells:
            key = cell_key(t, c.coords)
            if key in keys and not _same(truth, owners[keys[key]], (t, c.coords)):
                key = (*key, t.name)  # not the same number after all: keep it apart
            if key not in keys:
                keys[key] = len(owners)
                owners.append((t, c.coords))
            idx.append(keys[key])
        placed.append(idx)
    n = len(owners)
    withheld = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    for t, idx in zip(tables, placed, strict=True):
        for c, i in zip(t.all_cells, idx, strict=True):
            if c.reason is not None:
                withheld[i] = True
                reasons[i] = c.reason
    measures = list(dict.fromkeys(m for t in tables for m in t.measures if additive(m)))
    out: list[CellAudit] = []
    for m in measures:
        x = np.zeros(n)
        present = np.zeros(n, dtype=bool)
        eqs: list[Equation] = []
        for t, idx in zip(tables, placed, strict=True):
            if m not in t.measures:
                continue
            for c, i in zip(t.all_cells, idx, strict=True):
                x[i] = _true_value(truth, t, c.coords, m)
                present[i] = True
            local = lattice_equations([c.coords for c in t.all_cells])
            eqs.extend((idx[p], tuple(idx[ch] for ch in children)) for p, children in local)
        system = LinearSystem(x, eqs)
        mask = withheld & present
        low, high = system.intervals(mask)
        req_low, req_high = required_bounds(x, policy)
        for k in np.flatnonzero(mask):
            t, coords = owners[int(k)]
            cell = t.cell(*coords)
            out.append(
                CellAudit(
                    table=t.name,
                    coords=coords,
                    labels=cell.labels,
                    measure=m,
                    reason=reasons[int(k)],
                    low=float(low[k]),
                    high=float(high[k]),
                    required_low=float(req_low[k]),
                    required_high=float(req_high[k]),
                )
            )
    counts: dict[str, int] = {}
    for r in reasons.values():
        counts[r] = counts.get(r, 0) + 1
    return AuditReport(tuple(t.name for t in tables), tuple(out), counts)


def _true_value(truth: Truth, t: Table, coords: Coords, measure: str) -> float:
    cell = t.cell(*coords)
    v = cell.values.get(measure)
    if v is not None:
        return float(v)
    try:
        return float(truth[(t.name, coords)][measure])
    except KeyError:
        raise TrackerError(
            f"no true value given for the withheld cell {coords} of {t.name!r}"
        ) from None


def _same(truth: Truth, a: tuple[Table, Coords], b: tuple[Table, Coords]) -> bool:
    (ta, ca), (tb, cb) = a, b
    if ta.data_version != tb.data_version:
        return False
    for m in set(ta.measures) & set(tb.measures):
        va, vb = _true_value(truth, ta, ca, m), _true_value(truth, tb, cb, m)
        if abs(va - vb) > 1e-9 * max(1.0, abs(va)):
            return False
    return True
