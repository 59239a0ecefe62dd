"""An attacker on published counts of programs (distinct counts), beside ``attacker.py``.

Distinct counts are not sums, so the mixed-integer program of ``attacker.py`` leaves them out.
What a state user knows of them, from every published table:

- a withheld count is at least 1 (a cell with no records is shown as 0);
- a count of programs is at most the cell's count of activities (every program counted has an
  activity there): the published count, or the most the activity attacker's program allows;
- a cell that is the union of others (a table's margin over one dimension, or the same cell
  counting a union of kinds) counts at least each part's programs and at most their sum;
- a cell counting a subset of another's records counts at most its programs.

From these, one integer program per attack: each withheld count is minimised and maximised
(scipy's ``milp``). True values come from the caller's activities, never from the tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

import iecmhc_tracker as it
from privacy.attacker import AttackReport, Finding

#: the most programs a cell can count when nothing bounds it (no activity count anywhere)
UNBOUNDED = 10**6
#: distinct-count measures of programs
PROGRAMS = tuple(m for m, spec in it.MEASURES.items() if getattr(spec, "unit", "") == "program")

Node = tuple[Any, ...]


def _node(table: it.Table, cell: it.TableCell) -> Node:
    """What a cell counts: its filters and the coordinates it fixes (tables agreeing on both
    count the same records)."""
    where = tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in table.where.items()))
    fixed = tuple(
        sorted((d, c) for d, c in zip(table.dims, cell.coords, strict=True) if c is not None)
    )
    return (where, fixed)


def _kinds(node: Node) -> frozenset[str] | None:
    kinds = dict(node[0]).get("kind")
    return None if kinds is None else frozenset(kinds)


def _but_kind(node: Node) -> Node:
    return (tuple(kv for kv in node[0] if kv[0] != "kind"), node[1])


@dataclass
class ProgramAttack:
    """Every published count of programs, linked; ``attack`` bounds each withheld one."""

    tables: Sequence[it.Table]
    #: (table, coords) -> the most activities the cell can hold (from the activity attacker)
    activity_high: Mapping[tuple[str, tuple[Any, ...]], float]

    @classmethod
    def after(cls, tables: Iterable[it.Table], report: AttackReport | None) -> ProgramAttack:
        highs: dict[tuple[str, tuple[Any, ...]], float] = {}
        for f in report.findings if report is not None else ():
            if f.measure == "activities":
                highs[(f.table, f.coords)] = f.high
        return cls(list(tables), highs)

    def attack(self, truth: Callable[[it.Table, it.TableCell], float]) -> list[Finding]:
        nodes: dict[Node, int] = {}
        published: dict[int, float] = {}
        withheld: dict[int, tuple[it.Table, it.TableCell, str]] = {}
        for t in self.tables:
            for m in set(t.measures) & set(PROGRAMS):
                for c in t.all_cells:
                    k = nodes.setdefault(_node(t, c), len(nodes))
                    if c.values[m] is None:
                        withheld.setdefault(k, (t, c, m))
                    else:
                        published[k] = float(c.values[m])
        n = len(nodes)
        if not withheld:
            return []
        lb, ub = np.zeros(n), np.full(n, float(UNBOUNDED))
        for k in withheld:
            lb[k] = 1.0
        # activity counts of the same records bound the programs from above
        for t in self.tables:
            for c in t.all_cells:
                k = nodes.get(_node(t, c))
                if k is None:
                    continue
                v = c.values.get("activities")
                high = float(v) if v is not None else self.activity_high.get((t.name, c.coords))
                if high is not None:
                    ub[k] = min(ub[k], high)
        for k, v in published.items():
            lb[k] = ub[k] = v
        rows: list[tuple[dict[int, float], float, float]] = []
        by_node = {node: k for node, k in nodes.items()}
        # margins: a cell with a total over one dimension is the union of that dimension's cells
        for t in self.tables:
            if not set(t.measures) & set(PROGRAMS):
                continue
            cells = list(t.all_cells)
            for d in range(len(t.dims)):
                for total in cells:
                    if total.coords[d] is not None:
                        continue
                    parts = [
                        c
                        for c in cells
                        if c.coords[d] is not None
                        and all(
                            c.coords[i] == total.coords[i] for i in range(len(t.dims)) if i != d
                        )
                    ]
                    if parts:
                        self._union(
                            rows, by_node[_node(t, total)], [by_node[_node(t, p)] for p in parts]
                        )
        # the same cell over kinds: a subset of kinds counts at most the whole's programs; kinds
        # splitting the whole count at most their sum
        for whole, w in nodes.items():
            wk = _kinds(whole)
            if wk is None:
                continue
            subs = [
                (node, k)
                for node, k in nodes.items()
                if k != w
                and _but_kind(node) == _but_kind(whole)
                and (sk := _kinds(node)) is not None
                and sk < wk
            ]
            for _, k in subs:
                rows.append(({w: 1.0, k: -1.0}, 0.0, np.inf))
            for r in range(2, len(subs) + 1):
                for combo in itertools.combinations(subs, r):
                    ks = [_kinds(node) or frozenset() for node, _ in combo]
                    if sum(map(len, ks)) == len(wk) and frozenset().union(*ks) == wk:
                        self._union(rows, w, [k for _, k in combo])
        A = np.zeros((len(rows), n))
        lo, hi = np.zeros(len(rows)), np.zeros(len(rows))
        for i, (coef, a, b) in enumerate(rows):
            for k, v in coef.items():
                A[i, k] += v
            lo[i], hi[i] = a, b
        cons = [LinearConstraint(A, lo, hi)] if rows else []
        out = []
        for k, (t, c, m) in withheld.items():
            value = truth(t, c)
            low = self._extreme(k, n, lb, ub, cons, maximize=False)
            high = self._extreme(k, n, lb, ub, cons, maximize=True)
            if not low - 1e-6 <= value <= high + 1e-6:
                raise AssertionError(
                    f"{t.name}{c.coords} {m}: true {value} outside [{low}, {high}]: unsound"
                )
            w = max(t.policy.protection * value, float(t.policy.min_count))
            out.append(
                Finding(
                    0,
                    t.name,
                    tuple(c.coords),
                    m,
                    str(c.reason),
                    value,
                    low,
                    high,
                    max(value - w, 0.0),
                    value + w,
                )
            )
        return out

    @staticmethod
    def _union(
        rows: list[tuple[dict[int, float], float, float]], whole: int, parts: list[int]
    ) -> None:
        coef = {whole: -1.0}
        for p in parts:
            coef[p] = coef.get(p, 0.0) + 1.0
            rows.append(({whole: 1.0, p: -1.0}, 0.0, np.inf))  # at least each part
        rows.append((coef, 0.0, np.inf))  # at most their sum

    @staticmethod
    def _extreme(
        k: int,
        n: int,
        lb: np.ndarray,
        ub: np.ndarray,
        cons: list[LinearConstraint],
        *,
        maximize: bool,
    ) -> float:
        c = np.zeros(n)
        c[k] = -1.0 if maximize else 1.0
        res = milp(c, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=cons)
        if res.status != 0 or res.x is None:
            raise AssertionError(f"the program attacker's problem failed: {res.message}")
        return float(res.x[k])


def programs_truth(
    profile: it.Profile, activities: Iterable[it.Activity]
) -> Callable[[it.Table, it.TableCell], float]:
    """The true count of distinct programs of a cell, from the caller's activities."""
    acts = list(activities)

    def value(a: it.Activity, dim: str) -> Any:
        if dim == "fiscal_year":
            return profile.fiscal_year(a.date)
        if dim == "region":
            return profile.region_of(a.county) if a.county else None
        return getattr(a, dim, None)

    def truth(t: it.Table, c: it.TableCell) -> float:
        found = set()
        for a in acts:
            if a.program is None:
                continue
            if any(str(value(a, k)) not in {str(x) for x in v} for k, v in t.where.items()):
                continue
            if all(x is None or value(a, d) == x for d, x in zip(t.dims, c.coords, strict=True)):
                found.add(a.program)
        return float(len(found))

    return truth
