"""Complementary suppression: more cells withheld until no withheld value can be recovered or
narrowed from what is published, certified by linear programming (see ``_suppress``)."""

from __future__ import annotations

import itertools
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from ._audit import (
    BoolArray,
    Equation,
    FloatArray,
    LinearSystem,
    Model,
    Reduced,
    additive,
    lattice_equations,
    required_bounds,
)
from ._errors import TrackerError
from ._family import Cells, Layout
from ._linked import record_group, system_key
from ._profile import SuppressionPolicy


def systems(cells: Cells, layouts: Sequence[Layout]) -> dict[str, tuple[LinearSystem, BoolArray]]:
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
        *,
        exempt: BoolArray | None = None,
        weight: FloatArray | None = None,
        salt: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self.systems = dict(systems)
        self.withheld = withheld.copy()
        n = len(withheld)
        #: unknowns that are never published (fine cells): withheld, needing no protection
        self.exempt = np.zeros(n, dtype=bool) if exempt is None else exempt
        self.withheld |= self.exempt
        #: how much dearer a published cell is to withhold (grand totals: far dearer)
        self.weight = np.ones(n) if weight is None else weight
        #: a number per cell that does not change when other cells come or go (the seeds'
        #: directions), so that one fiscal year's result never depends on another's data
        self.salt = np.arange(n, dtype=np.int64) if salt is None else salt
        self.need_lo: dict[str, FloatArray] = {}
        self.need_hi: dict[str, FloatArray] = {}
        self.best_lo: dict[str, FloatArray] = {}
        self.best_hi: dict[str, FloatArray] = {}
        for m, (sys_, present) in self.systems.items():
            lo, hi = required_bounds(sys_.x, policy)
            lo[self.exempt], hi[self.exempt] = sys_.x[self.exempt], sys_.x[self.exempt]
            # what the attacker knows anyway (a withheld cell is not empty) is no disclosure
            lo = np.maximum(lo, np.minimum(sys_.lo, sys_.x))
            self.need_lo[m], self.need_hi[m] = lo, hi
            self.best_lo[m] = sys_.x.copy()
            self.best_hi[m] = sys_.x.copy()
            # a withheld cell outside every relation (or outside this measure) is unknowable
            free = ~sys_.linked | ~present
            self.best_hi[m][free] = np.inf
            self.best_lo[m][free] = 0.0
        self._reduced: dict[str, Reduced] = {}
        self._blocks: dict[str, npt.NDArray[np.int_]] = {}
        self._models: dict[tuple[str, int], tuple[Model, BoolArray]] = {}
        self._bounded: dict[tuple[str, int], tuple[Model, BoolArray]] = {}
        self._movers: dict[tuple[str, int], Model] = {}
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
        queue = deque(int(i) for i in np.flatnonzero(self.withheld & ~self.exempt))
        while queue:
            c = queue.popleft()
            for m in self.systems:
                for up in (True, False):
                    queue.extend(self._ensure(c, m, up))
        return self.withheld

    def summary(self) -> dict[str, Any]:
        """The certification without true values: whether every withheld value is
        protected, how many there are, and the narrowest certified interval as a share of
        its protection interval (1.0 or more: covered)."""
        share = np.inf
        values = 0
        ok = True
        for m, (sys_, present) in self.systems.items():
            cells = np.flatnonzero(self.withheld & ~self.exempt & present & sys_.linked)
            values += len(cells)
            for c in cells:
                want = self.need_hi[m][c] - self.need_lo[m][c]
                got = min(self.best_hi[m][c], 1e300) - self.best_lo[m][c]
                if want > 0:
                    share = min(share, got / want)
                ok &= self._certified(int(c), m, True) and self._certified(int(c), m, False)
        return {
            "certified": bool(ok),
            "withheld_values": int(values),
            "narrowest_share": None if not np.isfinite(share) else round(float(share), 4),
        }

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
            if self.exempt.any():
                continue  # a box moves one table's cells only: in a linked system no witness
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
        for m in self.systems:
            scale = 1.0 / (self.need_hi[m] - self.need_lo[m] + 1.0)
            sign = np.where((self.salt * 2654435761) % 7 < 3, 1.0, -1.0)
            for w in (-scale, scale, -scale * sign, scale * sign):
                point = self._bounded_point(m, w)
                if point is not None:
                    self._witness(m, point)

    def _uncertified(self, m: str) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]:
        """The withheld cells not yet certified upward, and those not yet downward."""
        cells = np.flatnonzero(self.withheld)
        hi, lo = self.need_hi[m][cells], self.need_lo[m][cells]
        up = self.best_hi[m][cells] < hi - 1e-7 * np.maximum(1.0, hi)
        down = self.best_lo[m][cells] > lo + 1e-7 * np.maximum(1.0, lo)
        return cells[up], cells[down]

    def _batch_certify(self, rounds: int = 12) -> None:
        """One LP per measure pushing every uncertified value its way at once: a single
        point of the feasible set often certifies many cells (cheaper than one LP each).
        Rounds stop once one certifies nothing more."""
        for _ in range(rounds):
            progress = False
            for m, (sys_, _) in self.systems.items():
                ups, downs = self._uncertified(m)
                if not len(ups) and not len(downs):
                    continue
                w = np.zeros(sys_.n)
                w[ups] -= 1.0 / (self.need_hi[m][ups] - sys_.x[ups] + 1.0)
                w[downs] += 1.0 / (sys_.x[downs] - self.need_lo[m][downs] + 1.0)
                point = self._bounded_point(m, w)
                if point is not None:
                    self._witness(m, point)
                    after = self._uncertified(m)
                    progress |= len(after[0]) + len(after[1]) < len(ups) + len(downs)
            if not progress:
                return

    def _bounded_point(self, m: str, w: FloatArray) -> FloatArray | None:
        """A point of the attacker's feasible set minimising ``w``, solved block by block
        (only blocks where ``w`` touches a withheld cell), each block's LP kept in HiGHS
        for the whole run so that every push starts from the last basis."""
        sys_ = self.systems[m][0]
        touched = np.flatnonzero((w != 0) & self.withheld & sys_.linked)
        if len(touched) == 0:
            return None
        self._block(m, int(touched[0]))  # the block labels
        labels = self._blocks[m][: sys_.n]
        point = sys_.x.copy()
        found = False
        for label in np.unique(labels[touched]):
            cols = np.flatnonzero(labels == label)
            model = self._bounded_model(m, cols)
            status, xb = model.minimise(w[cols])
            self.lp_solves += 1
            if status != "optimal":
                del self._bounded[(m, int(cols[0]))]
                continue
            point[cols] = xb
            found = True
        return point if found else None

    def _bounded_model(self, m: str, cols: npt.NDArray[np.int_]) -> Model:
        """The block's LP with published cells fixed and withheld ones bounded above (an
        upper bound keeps it bounded; any point inside is still a witness)."""
        sys_ = self.systems[m][0]
        held = self.withheld[cols]
        upper = np.minimum(2.0 * self.need_hi[m][cols] + 1.0, sys_.hi[cols])
        upper = np.maximum(upper, sys_.lo[cols])
        key = (m, int(cols[0]))
        entry = self._bounded.get(key)
        if entry is None:
            x = sys_.x[cols]
            lo = np.where(held, sys_.lo[cols], x)
            hi = np.where(held, upper, x)
            _, rows = self._block(m, int(cols[0]))
            block = sys_.A_csc[:, cols].tocsr()[rows].tocsc()
            model = Model(block, np.zeros(len(rows)), np.column_stack([lo, hi]))
            entry = self._bounded[key] = (model, held.copy())
        model, known = entry
        new = np.flatnonzero(held & ~known)
        if len(new):
            model.set_bounds(new, sys_.lo[cols][new], upper[new])
            known[new] = True
        return model

    def _ensure(self, c: int, m: str, up: bool) -> list[int]:
        """Make sure withheld cell ``c`` is protected in measure ``m`` (upward or downward);
        returns the cells newly withheld for it."""
        if self._certified(c, m, up):
            return []
        value, point = self._extreme(m, c, up)
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

    def _extreme(self, m: str, c: int, up: bool) -> tuple[float, FloatArray | None]:
        """The attacker's extreme value of cell ``c`` and a point attaining it, from one LP
        per block kept in HiGHS for the whole run: a published cell is a column fixed at its
        value, withholding it widens the column's bounds, so every solve is warm-started."""
        sys_ = self.systems[m][0]
        if not sys_.linked[c]:
            return (float(sys_.hi[c]), None) if up else (float(sys_.lo[c]), None)
        cols, rows = self._block(m, c)
        key = (m, int(cols[0]))
        entry = self._models.get(key)
        held = self.withheld[cols]
        x = sys_.x[cols]
        if entry is None:
            lo = np.where(held, sys_.lo[cols], x)
            hi = np.where(held, sys_.hi[cols], x)
            block = sys_.A_csc[:, cols].tocsr()[rows].tocsc()
            model = Model(block, np.zeros(len(rows)), np.column_stack([lo, hi]))
            entry = self._models[key] = (model, held.copy())
        model, known = entry
        new = np.flatnonzero(held & ~known)
        if len(new):
            model.set_bounds(new, sys_.lo[cols][new], sys_.hi[cols][new])
            known[new] = True
        status, xb = model.extreme(int(np.searchsorted(cols, c)), maximize=up)
        if status == "unbounded":
            return (np.inf, None) if up else (0.0, None)
        if status != "optimal":
            # a warm start that lost its way (HiGHS says "unknown"): solve afresh, and
            # rebuild the block's model next time
            del self._models[key]
            return self._red(m).extreme(c, maximize=up)
        point = sys_.x.copy()
        point[cols] = xb
        return float(point[c]), point

    def _reach(
        self, m: str, cols: npt.NDArray[np.int_], bounds: FloatArray, c: int, up: bool
    ) -> float:
        """How far cell ``c`` can move (up or down) at all, whatever is withheld."""
        n = len(cols)
        b = bounds.copy()
        b[c, 0] = b[n + c, 0] = 0.0
        w = np.zeros(2 * n)
        w[c if up else n + c] = -1.0
        status, z = self._moves(m, cols, w, b)
        if status != 0:
            return 0.0
        return float(z[c if up else n + c]) * (1 - 1e-9)

    def _moves(
        self, m: str, cols: npt.NDArray[np.int_], cost: FloatArray, bounds: FloatArray
    ) -> tuple[int, FloatArray]:
        """The cheapest move ``u - l`` of the block's cells that keeps every relation
        (``A (u - l) = 0``) within ``bounds``: linprog's status (0 solved, 2 infeasible) and
        the solution. One model per block is kept in HiGHS for the run, so each repair
        starts from the last one's basis; a warm start that loses its way is solved
        afresh."""
        self.lp_solves += 1
        key = (m, int(cols[0]))
        model = self._movers.get(key)
        if model is None:
            sys_ = self.systems[m][0]
            _, rows = self._block(m, int(cols[0]))
            block = sys_.A_csc[:, cols].tocsr()[rows]
            A = sparse.hstack([block, -block]).tocsc()
            model = self._movers[key] = Model(A, np.zeros(A.shape[0]), bounds)
        status, z = model.solve(cost, bounds)
        if status == "optimal":
            return 0, z
        if status == "Infeasible":
            return 2, z
        del self._movers[key]
        A = model.matrix
        res = linprog(cost, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds)
        if res.status not in (0, 2):
            raise TrackerError(f"complementary suppression could not be solved ({res.message})")
        return int(res.status), np.asarray(res.x, dtype=float) if res.status == 0 else z

    def _block(self, m: str, c: int) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_]]:
        """The cells and equations of measure ``m``'s system linked to cell ``c`` at all
        (through any cell, published or not): the repair of ``c`` moves nothing else."""
        sys_ = self.systems[m][0]
        if m not in self._blocks:
            n, ne = sys_.n, sys_.A.shape[0]
            inc = (sys_.A != 0).astype(np.int8).tocoo()
            graph = sparse.coo_matrix(
                (np.ones(inc.nnz), (inc.col, n + inc.row)), shape=(n + ne,) * 2
            )
            _, labels = connected_components(graph, directed=False)
            self._blocks[m] = labels
        labels = self._blocks[m]
        n = sys_.n
        own = labels[c]
        return np.flatnonzero(labels[:n] == own), np.flatnonzero(labels[n:] == own)

    def _repair(self, c: int, m: str, up: bool) -> list[int]:
        sys_, present = self.systems[m]
        cols, _ = self._block(m, c)
        at = int(np.searchsorted(cols, c))
        x = sys_.x[cols]
        n = len(cols)
        withheld = self.withheld[cols]
        present = present[cols]
        weight = self.weight[cols]
        lo, hi = sys_.lo[cols], sys_.hi[cols]
        amount = (self.need_hi[m][c] - x[at]) if up else (x[at] - self.need_lo[m][c])
        cost = np.where(withheld, 0.0, (1.0 + np.abs(x)) * weight)
        # how far each cell may move up and down: published ones to any value >= 0, fine
        # cells within what the attacker knows of them
        u_hi = np.where(present, hi - x, 0.0)
        l_hi = np.where(present, x - lo, 0.0)
        u_lo = np.zeros(n)
        l_lo = np.zeros(n)
        if up:
            u_lo[at], l_hi[at] = amount, 0.0
        else:
            u_hi[at], l_lo[at] = 0.0, amount
        bounds = np.column_stack([np.concatenate([u_lo, l_lo]), np.concatenate([u_hi, l_hi])])
        status, z = self._moves(m, cols, np.concatenate([cost, cost]), bounds)
        self.repairs += 1
        if status == 2:
            # what the attacker knows anyway (every withheld cell holds a record, no activity
            # more than 24 h) keeps the cell from moving that far whatever is withheld: the
            # requirement is capped at the farthest it can move, and protected that far
            reach = self._reach(m, cols, bounds, at, up)
            if reach <= 0:
                return []
            if up:
                self.need_hi[m][c] = sys_.x[c] + reach
            else:
                self.need_lo[m][c] = sys_.x[c] - reach
            return self._repair(c, m, up)
        y = z[:n] - z[n:]
        moved = np.abs(y) > 1e-7 * max(1.0, amount)
        new = cols[np.flatnonzero(moved & ~withheld)]
        point = sys_.x.copy()
        point[cols] = x + y
        if len(new) == 0:
            # the exact LP and the repair disagree only within tolerance: accept the witness
            self._witness(m, point)
            if up:
                self.best_hi[m][c] = max(self.best_hi[m][c], self.need_hi[m][c])
            else:
                self.best_lo[m][c] = min(self.best_lo[m][c], self.need_lo[m][c])
            return []
        self.withheld[new] = True
        self._reduced.clear()
        self._witness(m, point)
        return [int(i) for i in new]


class Lattice:
    """One table's cells on a grid with an extra "total" slot per dimension, for the box
    pass. Cells shared with another table of the family are kept out of boxes: moving them
    would change that table's relations too."""

    def __init__(self, layout: Layout, shared: BoolArray, measures: Sequence[str]) -> None:
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
        self.measures = list(measures)
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
            # the headline weight keeps grand totals out of boxes as out of repairs
            self._base_cost = (1.0 + np.abs(self._grids[self.measures[0]])) * np.where(
                self.cell >= 0, prot.weight[self.cell], 1.0
            )
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
    cells: Cells,
    layouts: Sequence[Layout],
    reasons: list[str | None],
    policy: SuppressionPolicy,
    *,
    linked: tuple[Mapping[str, tuple[LinearSystem, BoolArray]], BoolArray, FloatArray]
    | None = None,
    earlier: BoolArray | None = None,
    fixed: BoolArray | None = None,
) -> tuple[list[str | None], Protector]:
    """Add ``"complementary"`` reasons until the release's audit passes.

    ``linked``: the release's linked systems, fine cells and cost weights (``_linked.link``);
    without them each table family is its own system. ``earlier``: cells withheld by an
    earlier release of the same data, which stay withheld."""
    withheld = np.array([r is not None for r in reasons], dtype=bool)
    if earlier is not None:
        withheld |= earlier
    if linked is None:
        linear: Mapping[str, tuple[LinearSystem, BoolArray]] = systems(cells, layouts)
        prot = Protector(linear, withheld, policy)
        keys = {lay.spec.name: [m for m in lay.spec.measures if m in linear] for lay in layouts}
    else:
        linear, exempt, weight = linked
        salt = np.array([zlib.crc32(repr(k).encode()) for k in cells.keys], dtype=np.int64)
        prot = Protector(linear, withheld, policy, exempt=exempt, weight=weight, salt=salt)
        keys = {
            lay.spec.name: [k for m in lay.spec.measures if (k := _key_of(lay, m)) in linear]
            for lay in layouts
        }
    uses = np.zeros(len(cells), dtype=np.int64)
    for lay in layouts:
        uses[np.unique(lay.cells)] += 1
    shared = uses > 1
    if fixed is not None:
        shared = shared | fixed  # published before with this value: never a box's corner
    final = prot.run([Lattice(lay, shared, keys[lay.spec.name]) for lay in layouts])
    out = [
        r if r is not None else ("complementary" if final[i] and not prot.exempt[i] else None)
        for i, r in enumerate(reasons)
    ]
    return out, prot


def _key_of(layout: Layout, measure: str) -> str:
    return system_key(record_group(layout.spec.by, layout.spec.where), measure)
