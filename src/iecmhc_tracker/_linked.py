"""Every table of a release in one linked system, whatever its filters.

Two tables with different filters (consultation hours by region, training hours by region,
and both together) count overlapping sets of activities: the third is the sum of the first
two. Each published cell is therefore written as a sum of *fine cells*: the activities cut
by every dimension and filter field that any table of the release uses (kind, consultation
type, setting, region, fiscal year, …). The attacker's unknowns are the fine cells; every
published number is one equation over them. Tables that share a filter are linked through
the same equations, so one system protects them all.

What the attacker knows of a fine cell beyond the equations is given as bounds, chosen from
the true values so that the protected problem is never easier for us than the real one:

* at least one record (empty fine cells are left out: fixing them at 0 only narrows what we
  compute, so a cell certified here is at least as well hidden in fact);
* at least the largest single consultant's share of it (any one consultant knows her own
  rows: the p % rule's attacker);
* hours between the profile's minimum per activity and 24 h per activity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ._audit import BoolArray, Equation, FloatArray, LinearSystem, additive
from ._columns import DIMENSION_COLUMNS
from ._errors import TrackerError
from ._family import Cells, Layout
from ._measures import MEASURES
from ._table import NOT_RECORDED

#: the most hours one activity may hold (validation refuses more)
MAX_HOURS = 24.0
#: cost multiplier that keeps grand totals (the headline numbers) out of complements
HEADLINE_WEIGHT = 1e4

FINE = "~fine"  # first element of a fine cell's key (never a dimension name)


def column(measure: str) -> str:
    """The row column a measure sums (``"*"`` counts records)."""
    return MEASURES[measure].column or "*"


def system_key(group: str, measure: str) -> str:
    """The linked system a measure's values belong to: one per record kind and column."""
    return f"{group}:{column(measure)}"


def record_group(spec_by: Sequence[str], where: Mapping[str, Any]) -> str:
    """Referral tables count (activity, referral) records; the others count activities."""
    return "referrals" if "resource_type" in spec_by or "resource_type" in where else "activities"


def fine_dimensions(
    specs: Sequence[tuple[Sequence[str], Mapping[str, Any], Sequence[str]]],
) -> tuple[str, ...]:
    """Every dimension and filter field of the tables (kind too where a measure keeps to
    some kinds): the cross-classification all their cells are sums over."""
    dims: set[str] = set()
    for by, where, measures in specs:
        dims.update(by)
        # filters on extra fields cut the fine cells further (``FineCells.parts``)
        dims.update(k for k in where if k in DIMENSION_COLUMNS)
        if any(MEASURES[m].kinds for m in measures):
            dims.add("kind")
    return tuple(sorted(dims))


Stat = tuple[tuple[Any, ...], int, int, tuple[float, ...], tuple[float, ...]]
#: the part of a fine cell an extra field's filter leaves out
REST = "~rest"


class FineCells:
    """The non-empty fine cells of one record kind: values per fine dimension, and per
    column their records, totals and largest single-consultant totals.

    A table may filter on an extra field (``series = ["open_door"]``), which the store cannot
    group by. Each fine cell is then cut further by that field: ``parts[(name, value)]`` are
    the fine cells of the activities with that value, and ``(name, REST)`` what is left; a
    cell's ``tag`` says which part it is (``None``: the whole fine cell)."""

    def __init__(
        self,
        group: str,
        dims: Sequence[str],
        columns: Sequence[str],
        stats: Sequence[Stat],
        parts: Mapping[tuple[str, str], Sequence[Stat]] | None = None,
    ) -> None:
        self.group = group
        self.dims = tuple(dims)
        self.columns = tuple(columns)
        tags: list[tuple[str, str] | None] = [None] * len(stats)
        stats = list(stats)
        whole = {st[0]: st for st in stats}
        by_name: dict[str, dict[tuple[Any, ...], list[Stat]]] = {}
        for (name, value), found in (parts or {}).items():
            for st in found:
                stats.append(st)
                tags.append((name, value))
                by_name.setdefault(name, {}).setdefault(st[0], []).append(st)
        for name, cut in by_name.items():
            for vals, pieces in cut.items():
                full = whole[vals]
                n = full[1] - sum(p[1] for p in pieces)
                sums = tuple(a - sum(p[3][j] for p in pieces) for j, a in enumerate(full[3]))
                stats.append((vals, n, 0, sums, tuple(0.0 for _ in sums)))
                tags.append((name, REST))
        self.tags = tags
        self.values = [s[0] for s in stats]
        self.records = np.array([s[1] for s in stats], dtype=float)
        self.sums = {c: np.array([s[3][j] for s in stats]) for j, c in enumerate(columns)}
        self.tops = {c: np.array([s[4][j] for s in stats]) for j, c in enumerate(columns)}

    def __len__(self) -> int:
        return len(self.values)


def _passes(value: Any, allowed: Sequence[Any] | str) -> bool:
    options = [allowed] if isinstance(allowed, str) else list(allowed)
    return value in options


def link(
    cells: Cells,
    layouts: Sequence[Layout],
    filters: Sequence[Mapping[str, Any]],
    fine: Mapping[str, tuple[FineCells, int]],
    *,
    min_hours: float,
) -> tuple[dict[str, tuple[LinearSystem, BoolArray]], BoolArray, FloatArray]:
    """The linked systems of a release (one per record kind and column), which cells are
    fine cells (withheld, never published, needing no protection), and each cell's cost
    weight for complementary suppression (grand totals are kept published if at all
    possible).

    ``filters[i]`` are the store filters of ``layouts[i]``'s table; ``fine[group]`` the
    group's fine cells and the index of the first of them in ``cells``."""
    n = len(cells)
    exempt = np.zeros(n, dtype=bool)
    for group_cells, first in fine.values():
        exempt[first : first + len(group_cells)] = True
    weight = np.ones(n)
    xs: dict[str, FloatArray] = {}
    present: dict[str, BoolArray] = {}
    source: dict[str, dict[int, str]] = {}
    members: dict[str, dict[int, list[int]]] = {}
    for lay, flt in zip(layouts, filters, strict=True):
        spec = lay.spec
        group = record_group(spec.by, spec.where)
        group_cells, first = fine[group]
        pos = {d: i for i, d in enumerate(group_cells.dims)}
        index = {c: g for c, g in zip(lay.coords, lay.cells, strict=True)}
        for c, g in index.items():
            # a grand total: of the whole table, or of one fiscal year of it
            if all(v is None for d, v in zip(spec.by, c, strict=True) if d != "fiscal_year"):
                weight[g] = HEADLINE_WEIGHT
        k = len(spec.by)
        masks = [[bool(b >> d & 1) for d in range(k)] for b in range(2**k)]
        extra = {k[len("extra.") :]: v for k, v in flt.items() if k.startswith("extra.")}
        if len(extra) > 1:
            raise TrackerError(
                f"table {spec.name!r} filters on more than one extra field "
                f"({', '.join(sorted(extra))}); it cannot be linked with the other tables"
            )
        passing = [
            f
            for f, vals in enumerate(group_cells.values)
            if all(_passes(vals[pos[key]], allowed) for key, allowed in flt.items() if key in pos)
            and _tag_passes(group_cells.tags[f], extra)
        ]
        pairs: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        for m in spec.measures:
            if not additive(m):
                continue
            key = system_key(group, m)
            j = cells.measures.index(m)
            if key not in xs:
                xs[key] = np.zeros(n)
                present[key] = exempt.copy()
                source[key] = {}
                members[key] = {}
                col = column(m)
                fx = group_cells.sums[col] if col != "*" else group_cells.records
                xs[key][first : first + len(group_cells)] = fx
            kinds = MEASURES[m].kinds
            for g in lay.cells:
                if source[key].setdefault(g, m) != m:
                    raise TrackerError(
                        f"table {spec.name!r} publishes {m!r} where a table with the same "
                        f"filters publishes {source[key][g]!r} on the same column; publish "
                        "them in tables with different filters"
                    )
                xs[key][g] = cells.sums[g][j]
                present[key][g] = True
            if kinds not in pairs:
                # which published cell each passing fine cell counts in (the same for every
                # measure of these kinds)
                found: list[tuple[int, int]] = []
                for f in passing:
                    vals = group_cells.values[f]
                    if kinds and vals[pos["kind"]] not in kinds:
                        continue
                    coded = [_code(vals[pos[d]]) for d in spec.by]
                    for mask in masks:
                        at = index.get(tuple(coded[d] if mask[d] else None for d in range(k)))
                        if at is not None:
                            found.append((at, first + f))
                pairs[kinds] = found
            into = members[key]
            for at, f in pairs[kinds]:
                into.setdefault(at, []).append(f)
    systems: dict[str, tuple[LinearSystem, BoolArray]] = {}
    for key, x in xs.items():
        group, col = key.split(":", 1)
        group_cells, first = fine[group]
        eqs: list[Equation] = [(g, tuple(sorted(set(fs)))) for g, fs in members[key].items()]
        eqs.extend(_cuts(group_cells, first))
        lo = np.zeros(n)
        hi = np.full(n, np.inf)
        sl = slice(first, first + len(group_cells))
        records = group_cells.records
        if col == "hours":
            # no activity holds more than 24 h (fixing its records at the truth only
            # narrows what we compute)
            hi[sl] = np.maximum(MAX_HOURS * records, group_cells.sums[col])
        # a published cell: shown as 0 when empty (so never withheld then), and known to
        # hold a record (and a quarter hour) when withheld
        empty = np.asarray(cells.records) == 0
        published = np.ones(n, dtype=bool)
        published[sl] = False
        published &= ~exempt
        hi[published & empty] = 0.0
        floor = 1.0 if col == "*" else (min_hours if col == "hours" else 0.0)
        lo[published & ~empty] = np.minimum(floor, x[published & ~empty])
        eqs = _merge(eqs, x, lo, hi, range(sl.start, sl.stop))
        systems[key] = (LinearSystem(x, eqs, lo=lo, hi=hi), present[key])
    return systems, exempt, weight


def _merge(
    eqs: Sequence[Equation], x: FloatArray, lo: FloatArray, hi: FloatArray, fine: Iterable[int]
) -> list[Equation]:
    """Fine cells that every equation takes alike (no published number tells them apart)
    as one unknown: the first of them holds their summed value and bounds, the others leave
    every equation. The attacker's problem is the same (only their sum appears in it, and a
    sum of boxes is the box of the sums), with fewer unknowns."""
    rows: dict[int, list[tuple[int, int]]] = {}
    for r, (parent, children) in enumerate(eqs):
        rows.setdefault(parent, []).append((r, 1))
        for ch in children:
            rows.setdefault(ch, []).append((r, -1))
    alike: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for f in fine:
        if f in rows:
            alike.setdefault(tuple(rows[f]), []).append(f)
    gone: set[int] = set()
    for same in alike.values():
        if len(same) > 1:
            head, rest = same[0], same[1:]
            x[head] += x[rest].sum()
            lo[head] += lo[rest].sum()
            hi[head] += hi[rest].sum()
            gone.update(rest)
    if not gone:
        return list(eqs)
    return [(p, tuple(c for c in ch if c not in gone)) for p, ch in eqs]


def _tag_passes(tag: tuple[str, str] | None, extra: Mapping[str, Any]) -> bool:
    """Whether a fine cell of this part belongs to a table with these extra-field filters."""
    if not extra:
        return tag is None
    if tag is None:
        return False
    ((name, allowed),) = extra.items()
    options = [allowed] if isinstance(allowed, str) else list(allowed)
    return tag[0] == name and tag[1] != REST and tag[1] in map(str, options)


def _cuts(cells: FineCells, first: int) -> list[Equation]:
    """Each fine cell cut by an extra field: the whole is the sum of its parts."""
    whole = {v: i for i, v in enumerate(cells.values) if cells.tags[i] is None}
    parts: dict[tuple[str, int], list[int]] = {}
    for i, tag in enumerate(cells.tags):
        if tag is not None:
            parts.setdefault((tag[0], whole[cells.values[i]]), []).append(first + i)
    return [(first + w, tuple(ps)) for (_name, w), ps in parts.items()]


def _code(v: Any) -> Any:
    return NOT_RECORDED if v is None else v
