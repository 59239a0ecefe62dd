"""An attacker on suppressed state tables: one mixed-integer program over everything published.

The attacker is a state user (optionally also a consultant who knows her own rows). She sees
every table of every release: published values, which cells are withheld and the flag of each
(``primary``, ``dominance``, ``complementary``), margins included. She knows the profile (code
lists, table definitions, suppression policy) and the validation rules (an activity lasts
between ¼ and 24 hours, in quarter hours; counts are whole numbers). From all of it she builds
one mixed-integer linear program (scipy's ``milp``, HiGHS) and, for every withheld value,
minimises and maximises it: the feasible interval. See ``README.md`` for the formal model.

Only the public API of ``iecmhc_tracker`` is used (tables as the state role receives them,
activities as a consultant sees her own), so the harness keeps working while the internals
change. True values, needed to judge whether a value was recovered, come from the caller's
own list of the activities it stored — never from the tables.

Usage::

    att = Attacker(profile, fiscal_years=[2026])
    att.observe(tracker.as_state().tables())                  # release 0
    ...  # insert / amend / delete activities
    att.observe(tracker.as_state().tables(), changes=Changes(inserts=2, amends=1, deletes=1))
    report = att.attack([activities_at_release_0, activities_at_release_1])
    assert not report.recovered, str(report)
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

import iecmhc_tracker as it

#: validation: an activity's hours are more than 0, at most 24, in quarter hours
MIN_HOURS = 0.25
MAX_HOURS = 24.0
HOUR_STEPS = 4  # quarter hours per hour
#: validation's default most per entry of each count field (a profile's [limits] override)
ROW_LIMITS = {
    "minutes": 24 * 60,
    "children_benefiting": 500,
    "staff_influenced": 300,
    "families": 300,
    "participants": 1000,
    "rated_worthwhile": 1000,
    "referrals": 100,
    "recommended_consultation": 1,
}
#: the code tables show for a value that was not recorded
NOT_RECORDED = "_none"
#: a filter field's values that no table's filter names, lumped together
OTHER = "__other__"
ROWS, REFERRALS = "rows", "referrals"
#: seconds of a first, short MILP search (refined up to ``time_limit`` only when it matters)
QUICK = 1.0
#: relative slack when comparing intervals with requirements
TOLERANCE = 1e-6


class AttackerError(AssertionError):
    """The attacker's model contradicts what was published: a bug in the harness (or tables
    that do not add up), never a result."""


@dataclass(frozen=True)
class Changes:
    """What the attacker knows happened between the previous release and this one: at most
    ``inserts`` new activities, ``deletes`` deleted and ``amends`` amended (an amendment may
    move an activity to any cell and change its hours)."""

    inserts: int = 0
    deletes: int = 0
    amends: int = 0


@dataclass(frozen=True)
class Finding:
    """One withheld value (a cell of one release, one measure) and what the attacker got."""

    release: int
    table: str
    coords: tuple[Any, ...]
    measure: str
    reason: str
    value: float  # the true value (from the caller's activities)
    low: float
    high: float
    required_low: float
    required_high: float

    @property
    def exact(self) -> bool:
        """The attacker pins the value."""
        return self.high - self.low <= TOLERANCE * max(1.0, abs(self.value))

    @property
    def narrowed(self) -> bool:
        """The feasible interval does not reach the protection interval on some side (the
        policy's audit failure). A protection interval reaching 0 counts as reached by any
        lower bound: a withheld cell is known to be non-empty, since empty cells show 0."""
        slack = TOLERANCE * max(1.0, abs(self.value))
        low = self.required_low > slack and self.low > self.required_low + slack
        return low or self.high < self.required_high - slack

    @property
    def recovered(self) -> bool:
        """The attacker knows the value within its protection interval: her whole feasible
        interval lies inside it (and is narrower), or she pins the value."""
        slack = TOLERANCE * max(1.0, abs(self.value))
        inside = self.low >= self.required_low - slack and self.high <= self.required_high + slack
        return self.exact or (inside and self.narrowed)

    def __str__(self) -> str:
        where = "/".join("Total" if c is None else str(c) for c in self.coords)
        tag = "EXACT" if self.exact else ("RECOVERED" if self.recovered else "narrowed")
        return (
            f"release {self.release} {self.table}[{where}] {self.measure} ({self.reason}): "
            f"true {self.value:g}, attacker [{self.low:g}, {self.high:g}], protection "
            f"[{self.required_low:g}, {self.required_high:g}] {tag if self.narrowed else ''}"
        ).rstrip()


@dataclass
class AttackReport:
    """Every withheld value the attacker attacked (one per distinct number: a margin shared
    by several tables is attacked once)."""

    findings: list[Finding]
    releases: int
    solves: int = 0
    seconds: float = 0.0
    #: withheld cells that hold no record (the tables promise to show empty cells as 0)
    empty_withheld: int = 0

    @property
    def exact(self) -> list[Finding]:
        return [f for f in self.findings if f.exact]

    @property
    def recovered(self) -> list[Finding]:
        """Values known within their protection interval (exact ones included)."""
        return [f for f in self.findings if f.recovered]

    @property
    def narrowed(self) -> list[Finding]:
        return [f for f in self.findings if f.narrowed]

    def counts(self) -> dict[str, int]:
        return {
            "withheld": len(self.findings),
            "exact": len(self.exact),
            "recovered": len(self.recovered),
            "narrowed": len(self.narrowed),
        }

    def __str__(self) -> str:
        c = self.counts()
        head = (
            f"attack on {self.releases} release(s): {c['withheld']} withheld values, "
            f"{c['exact']} recovered exactly, {c['recovered']} within their protection "
            f"interval, {c['narrowed']} narrowed; {self.empty_withheld} empty cells withheld "
            f"({self.solves} MILPs, {self.seconds:.1f} s)"
        )
        shown = sorted(self.narrowed, key=lambda f: (not f.exact, not f.recovered))
        return "\n".join([head, *(f"  {f}" for f in shown[:25])])


# -- the fine cells ------------------------------------------------------------------------------


def universe_of(table: it.Table) -> str:
    """What a table's records are: activities, or (by resource type) one per referral."""
    return REFERRALS if "resource_type" in table.dims or "resource_type" in table.where else ROWS


def _s(v: Any) -> str:
    return NOT_RECORDED if v is None else str(v)


@dataclass
class _Universe:
    """The finest cross-classification of one kind of record: every published cell of a
    table of this universe is a sum of fine cells."""

    name: str
    filters: tuple[str, ...]  # filter fields (kind, tier …): fixed per combination
    cells: list[dict[str, str]]  # each fine cell: field -> code (str)
    columns: tuple[str, ...]  # summed columns (hours, referral_total …)
    index: dict[tuple[tuple[str, str], ...], int] = field(default_factory=dict)
    dims_of: dict[tuple[tuple[str, str], ...], tuple[str, ...]] = field(default_factory=dict)
    domains: dict[str, list[str]] = field(default_factory=dict)


def _admits(where: Mapping[str, Sequence[Any]], cell: Mapping[str, str]) -> bool:
    return all(cell.get(k) in {str(v) for v in vals} for k, vals in where.items())


class Attacker:
    """Collects releases (and an insider's own rows), then attacks them all at once.

    ``profile``: the profile the tables come from (public knowledge). ``fiscal_years``: the
    years of data attacked (cells of other years are ignored). ``flags``: use what the flags
    reveal; ``integral``: whole counts and quarter hours (``False``: the LP relaxation);
    ``row_bounds``: per-activity hour bounds (``False``: only non-negativity, like the
    library's own audit); ``whole_units``: hours in whole quarter hours (slower; counts are
    whole numbers either way); ``zeros_shown``: take the documented promise "a cell with no
    records is shown as 0" literally, so a complementary cell holds at least ``min_count``
    records (by default the attacker allows it to be empty, which the code permits);
    ``time_limit``: seconds per MILP (a timed-out solve uses HiGHS' proven bound, so
    intervals stay valid outer bounds).
    """

    def __init__(
        self,
        profile: it.Profile,
        *,
        fiscal_years: Iterable[int],
        min_hours: float = MIN_HOURS,
        max_hours: float = MAX_HOURS,
        flags: bool = True,
        integral: bool = True,
        row_bounds: bool = True,
        whole_units: bool = False,
        zeros_shown: bool = False,
        time_limit: float = 10.0,
    ) -> None:
        self.profile = profile
        self.years = tuple(sorted(int(y) for y in fiscal_years))
        self.min_hours, self.max_hours = min_hours, max_hours
        self.flags, self.integral, self.row_bounds = flags, integral, row_bounds
        self.whole_units, self.zeros_shown = whole_units, zeros_shown
        self.time_limit = time_limit
        self.releases: list[list[it.Table]] = []
        self.changes: list[Changes | None] = []
        self.own: list[list[it.Activity] | None] = []

    def observe(
        self,
        tables: Mapping[str, it.Table] | Iterable[it.Table],
        *,
        changes: Changes | None = None,
        own: Iterable[it.Activity] | None = None,
    ) -> int:
        """Record one release (every table published at that time); returns its index.

        ``changes``: what the attacker knows changed since the previous release (``None``:
        nothing known, the releases are linked only through the fine cells' definitions).
        ``own``: the insider's own activities at this release (``as_consultant(c)
        .activities()``), given for every release or for none."""
        ts = list(tables.values()) if isinstance(tables, Mapping) else list(tables)
        # a DP table's numbers are noisy, no exact equation on the cells: its protection is
        # its DP charge (tests/privacy/test_dp_tables.py, test_dp_todate.py), not this model
        ts = [t for t in ts if t.mode != "dp"]
        self.releases.append(ts)
        self.changes.append(changes if self.releases[1:] else None)
        self.own.append(None if own is None else list(own))
        return len(self.releases) - 1

    # -- the model ---------------------------------------------------------------------------

    def _universes(self) -> dict[str, _Universe]:
        by_u: dict[str, list[it.Table]] = {}
        for ts in self.releases:
            for t in ts:
                by_u.setdefault(universe_of(t), []).append(t)
        out = {}
        for name, ts in by_u.items():
            measures = {m for t in ts for m in t.measures if not it.MEASURES[m].distinct_units}
            filters = {k for t in ts for k in t.where if k != "fiscal_year"}
            kinds = {k for m in measures for k in it.MEASURES[m].kinds}
            if kinds:
                filters.add("kind")
            dims = {d for t in ts for d in t.dims if d != "fiscal_year"}
            domains: dict[str, list[str]] = {}
            for d in dims | filters:
                seen = [_s(c.coords[t.dims.index(d)]) for t in ts if d in t.dims for c in t.cells]
                named = [str(v) for t in ts for v in t.where.get(d, ())]
                if d == "kind":
                    named += sorted(kinds)
                vals = list(dict.fromkeys(seen + named))
                if d not in dims:
                    vals.append(OTHER)
                domains[d] = vals
            domains["fiscal_year"] = [str(y) for y in self.years]
            fl = tuple(sorted(filters))
            columns = tuple(
                sorted({it.MEASURES[m].column for m in measures if it.MEASURES[m].column})  # type: ignore[misc]
            )
            u = _Universe(name, fl, [], columns, domains=domains)
            for combo in itertools.product(*(domains[f] for f in fl)):
                fixed = dict(zip(fl, combo, strict=True))
                admitted = [
                    t for t in ts if _admits({k: v for k, v in t.where.items() if k in fl}, fixed)
                ]
                if not admitted:
                    continue
                fdims = tuple(
                    sorted({d for t in admitted for d in t.dims if d not in fl} | {"fiscal_year"})
                )
                key = tuple(sorted(fixed.items()))
                u.dims_of[key] = fdims
                for vals in itertools.product(*(domains[d] for d in fdims)):
                    cell = {**fixed, **dict(zip(fdims, vals, strict=True))}
                    u.index[tuple(sorted(cell.items()))] = len(u.cells)
                    u.cells.append(cell)
            out[name] = u
        return out

    def _locate(self, u: _Universe, record: Mapping[str, Any]) -> int | None:
        fixed = {}
        for f in u.filters:
            v = _s(record.get(f))
            fixed[f] = v if v in u.domains[f] else OTHER
        fdims = u.dims_of.get(tuple(sorted(fixed.items())))
        if fdims is None:
            return None
        cell = dict(fixed)
        for d in fdims:
            cell[d] = _s(record.get(d))
        return u.index.get(tuple(sorted(cell.items())))

    def _records(self, a: it.Activity, universe: str) -> list[dict[str, Any]]:
        p = self.profile
        base: dict[str, Any] = {
            "kind": a.kind,
            "fiscal_year": p.fiscal_year(a.date),
            "quarter": p.fiscal_quarter(a.date),
            "region": p.region_of(a.county) if a.county else None,
            "hours": a.hours,
            "referral_total": sum(c for _, c in a.referrals),
        }
        for f in (
            "county",
            "setting",
            "consultation_type",
            "tier",
            "modality",
            "format",
            "language",
        ):
            base[f] = getattr(a, f, None)
        for col in ROW_LIMITS:
            if col not in base and hasattr(a, col):
                v = getattr(a, col)
                base[col] = int(v) if isinstance(v, bool) else v
        if universe == ROWS:
            return [base]
        return [{**base, "resource_type": code, "referral_total": n} for code, n in a.referrals]

    def _vectors(
        self, us: Mapping[str, _Universe], acts: Iterable[it.Activity]
    ) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
        """Per universe: records per fine cell and each column's sum (in scaled units)."""
        out = {}
        acts = list(acts)
        for name, u in us.items():
            n = np.zeros(len(u.cells))
            q = {c: np.zeros(len(u.cells)) for c in u.columns}
            for a in acts:
                for rec in self._records(a, name):
                    i = self._locate(u, rec)
                    if i is None:
                        continue
                    n[i] += 1
                    for c in u.columns:
                        v = rec.get(c)
                        q[c][i] += 0.0 if v is None else float(v) * self._scale(c)
            out[name] = (n, q)
        return out

    def _scale(self, column: str) -> int:
        return HOUR_STEPS if column == "hours" else 1

    def _row_bounds(
        self, u: _Universe, column: str, cell: Mapping[str, str]
    ) -> tuple[float, float]:
        """Scaled bounds of one record's value of ``column`` in a fine cell."""
        if not self.row_bounds:
            return 0.0, math.inf
        spec = self.profile.kinds.get(cell.get("kind", OTHER))
        required = set(spec.required) if spec else set()
        forbidden = set(spec.forbidden) if spec else set()
        if column == "hours":
            if "hours" in forbidden:
                return 0.0, 0.0
            lo = self.min_hours if "hours" in required else 0.0
            return lo * HOUR_STEPS, self.max_hours * HOUR_STEPS
        limit = float(
            self.profile.max_counts.get(
                "referrals" if column == "referral_total" else column,
                ROW_LIMITS.get("referrals" if column == "referral_total" else column, math.inf),
            )
        )
        if column == "referral_total":
            if u.name == REFERRALS:
                return 1.0, limit
            types = len(self.profile.codes.get("resource_type", ())) or 1
            return (1.0 if "referrals" in required else 0.0), limit * types
        return 0.0, limit

    # -- attack ------------------------------------------------------------------------------

    def attack(self, truth: Sequence[Iterable[it.Activity]]) -> AttackReport:
        """Attack every withheld value of every release. ``truth[r]``: every live activity at
        release ``r`` (all consultants), used only to score the attacker's intervals."""
        if len(truth) != len(self.releases):
            raise ValueError(f"give the activities of each of the {len(self.releases)} releases")
        insider = [o is not None for o in self.own]
        if any(insider) and not all(insider):
            raise ValueError("give the insider's own rows at every release or at none")
        started = time.perf_counter()
        us = self._universes()
        R = len(self.releases)
        true = [self._vectors(us, acts) for acts in truth]
        own = [self._vectors(us, o or ()) for o in self.own]

        # variables: per release and universe, records per fine cell and each column's sum
        nvar = 0
        lb: list[float] = []
        ub: list[float] = []
        integ: list[int] = []

        def new(count: int, lo: Any, hi: Any, integral: bool = True) -> np.ndarray:
            nonlocal nvar
            idx = np.arange(nvar, nvar + count)
            nvar += count
            lb.extend(np.broadcast_to(np.asarray(lo, dtype=float), (count,)).tolist())
            ub.extend(np.broadcast_to(np.asarray(hi, dtype=float), (count,)).tolist())
            integ.extend([1 if (integral and self.integral) else 0] * count)
            return idx

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        clo: list[float] = []
        chi: list[float] = []

        def constrain(idx: Sequence[int], coef: Sequence[float], lo: float, hi: float) -> None:
            r = len(clo)
            rows.extend([r] * len(idx))
            cols.extend(int(i) for i in idx)
            vals.extend(float(c) for c in coef)
            clo.append(lo)
            chi.append(hi)

        caps: dict[tuple[int, str], float] = {}
        for r, ts in enumerate(self.releases):
            for name in us:
                vs = [
                    abs(float(v))
                    for t in ts
                    if universe_of(t) == name
                    for c in t.all_cells
                    for v in c.values.values()
                    if v is not None
                ]
                own_max = float(own[r][name][0].sum())
                caps[(r, name)] = HOUR_STEPS * (max(vs, default=0.0) + own_max) + 1000.0

        N: dict[tuple[int, str], np.ndarray] = {}
        Q: dict[tuple[int, str, str], np.ndarray] = {}
        bounds_of: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for name, u in us.items():
            for c in u.columns:
                lo_hi = [self._row_bounds(u, c, cell) for cell in u.cells]
                bounds_of[(name, c)] = (
                    np.array([b[0] for b in lo_hi]),
                    np.array([b[1] for b in lo_hi]),
                )
        for r in range(R):
            for name, u in us.items():
                cap = caps[(r, name)]
                on, oq = own[r][name]
                N[(r, name)] = n = new(len(u.cells), on, cap)
                for c in u.columns:
                    lo, hi = bounds_of[(name, c)]
                    qcap = np.where(np.isfinite(hi), hi * cap, cap * 1000.0)
                    Q[(r, name, c)] = q = new(
                        len(u.cells), oq[c], np.maximum(qcap, oq[c]), self.whole_units
                    )
                    # others' records each hold between lo and hi of the column
                    for i in range(len(u.cells)):
                        if lo[i] > 0:
                            constrain(
                                [q[i], n[i]], [1.0, -lo[i]], oq[c][i] - lo[i] * on[i], math.inf
                            )
                        if np.isfinite(hi[i]):
                            constrain(
                                [q[i], n[i]], [1.0, -hi[i]], -math.inf, oq[c][i] - hi[i] * on[i]
                            )

        # what each published or withheld cell says
        targets: dict[
            tuple[Any, ...], tuple[int, it.Table, it.TableCell, str, list[int], float]
        ] = {}
        for r, ts in enumerate(self.releases):
            for t in ts:
                name = universe_of(t)
                u = us[name]
                policy = t.policy
                for cell in t.all_cells:
                    members = self._members(u, t, cell)
                    if members is None:
                        continue
                    n_idx = N[(r, name)][members]
                    values = cell.values
                    for m in t.measures:
                        spec = it.MEASURES[m]
                        if spec.distinct_units:
                            continue
                        idx, scale = self._expression(u, N, Q, r, name, m, members)
                        if cell.reason is None:
                            v = values[m]
                            assert v is not None
                            constrain(idx, [1.0] * len(idx), v * scale, v * scale)
                        else:
                            key = (r, name, m, tuple(int(i) for i in idx))
                            targets.setdefault(key, (r, t, cell, m, list(idx), scale))
                    if not self.flags:
                        continue
                    floor = float(max(policy.min_count, policy.min_consultants))
                    ones = [1.0] * len(n_idx)
                    if cell.reason is None:
                        if any((v or 0) > 0 for v in values.values()):
                            constrain(n_idx, ones, floor, math.inf)
                    elif cell.reason in ("primary", "dominance"):
                        constrain(n_idx, ones, 1.0, math.inf)
                        if cell.reason == "dominance":
                            constrain(n_idx, ones, floor, math.inf)
                    elif cell.reason == "withheld":
                        # one flag for every reason: with zeros shown, the cell is not empty
                        if self.zeros_shown:
                            constrain(n_idx, ones, 1.0, math.inf)
                    elif cell.reason == "complementary" and self.zeros_shown:
                        constrain(n_idx, ones, floor, math.inf)
                    elif cell.reason == "complementary":
                        # passed the primary tests: empty, or enough records and consultants
                        big = caps[(r, name)] * max(1, len(n_idx))
                        (z,) = new(1, 0.0, 1.0)
                        constrain([*n_idx, z], [*ones, -floor], 0.0, math.inf)
                        constrain([*n_idx, z], [*ones, -big], -math.inf, 0.0)

        # what can change between two releases
        for r in range(1, R):
            ch = self.changes[r]
            if ch is None:
                continue
            own_adds, own_dels = self._own_changes(r)
            adds_idx: list[int] = []
            dels_idx: list[int] = []
            for name, u in us.items():
                size = len(u.cells)
                cap = caps[(r, name)] + caps[(r - 1, name)]
                a = new(size, 0.0, cap)
                d = new(size, 0.0, cap)
                adds_idx += a.tolist()
                dels_idx += d.tolist()
                n0, n1 = N[(r - 1, name)], N[(r, name)]
                on0, on1 = own[r - 1][name][0], own[r][name][0]
                for i in range(size):
                    # others' records: n1 - own1 = n0 - own0 + a - d, and d <= n0 - own0
                    constrain(
                        [n1[i], n0[i], a[i], d[i]], [1, -1, -1, 1], on1[i] - on0[i], on1[i] - on0[i]
                    )
                    constrain([d[i], n0[i]], [1, -1], -math.inf, -on0[i])
                for c in u.columns:
                    lo, hi = bounds_of[(name, c)]
                    qcap = np.where(np.isfinite(hi), hi * cap, cap * 1000.0)
                    qa = new(size, 0.0, qcap, self.whole_units)
                    qd = new(size, 0.0, qcap, self.whole_units)
                    q0, q1 = Q[(r - 1, name, c)], Q[(r, name, c)]
                    oq0, oq1 = own[r - 1][name][1][c], own[r][name][1][c]
                    for i in range(size):
                        constrain(
                            [q1[i], q0[i], qa[i], qd[i]],
                            [1, -1, -1, 1],
                            oq1[i] - oq0[i],
                            oq1[i] - oq0[i],
                        )
                        constrain([qd[i], q0[i]], [1, -1], -math.inf, -oq0[i])
                        for x, k in ((qa[i], a[i]), (qd[i], d[i])):
                            if lo[i] > 0:
                                constrain([x, k], [1, -lo[i]], 0.0, math.inf)
                            if np.isfinite(hi[i]):
                                constrain([x, k], [1, -hi[i]], -math.inf, 0.0)
            max_adds = max(0, ch.inserts + ch.amends - own_adds)
            max_dels = max(0, ch.deletes + ch.amends - own_dels)
            constrain(adds_idx, [1.0] * len(adds_idx), 0.0, max_adds)
            constrain(dels_idx, [1.0] * len(dels_idx), 0.0, max_dels)

        A = sparse.csr_matrix((vals, (rows, cols)), shape=(len(clo), nvar))
        program = _Program(
            np.array(integ),
            np.array(lb),
            np.array(ub),
            A,
            np.array(clo),
            np.array(chi),
            integral=self.integral,
            time_limit=self.time_limit,
        )
        self._check_truth(us, true)

        findings: list[Finding] = []
        empty = 0
        for (r, name, m, _), (_, t, cell, _, idx, scale) in targets.items():
            true_v = self._true_value(us[name], true[r][name], t, cell, m)
            members = self._members(us[name], t, cell)
            if m == t.measures[0] and true[r][name][0][members].sum() == 0:
                empty += 1
            if any(insider):
                others = true[r][name][0][members].sum() - own[r][name][0][members].sum()
                if others <= 0:
                    continue  # only her own rows: nothing to disclose
            p = t.policy
            w = max(p.protection * abs(true_v), float(p.min_count))
            req_lo, req_hi = max(true_v - w, 0.0), true_v + w
            lo = program.extreme(idx, maximize=False, decide=req_lo * scale) / scale
            hi = program.extreme(idx, maximize=True, decide=req_hi * scale) / scale
            if not (lo - 1e-6 * max(1, abs(true_v)) <= true_v <= hi + 1e-6 * max(1, abs(true_v))):
                raise AttackerError(
                    f"true value {true_v} of {t.name}{cell.coords} {m} outside the attacker's "
                    f"interval [{lo}, {hi}]: the model is unsound"
                )
            findings.append(
                Finding(
                    release=r,
                    table=t.name,
                    coords=tuple(cell.coords),
                    measure=m,
                    reason=str(cell.reason),
                    value=true_v,
                    low=lo,
                    high=hi,
                    required_low=req_lo,
                    required_high=req_hi,
                )
            )
        return AttackReport(findings, R, program.solves, time.perf_counter() - started, empty)

    def _members(self, u: _Universe, t: it.Table, cell: it.TableCell) -> np.ndarray | None:
        """Fine cells a published cell sums (``None``: it spans years outside the attack)."""
        fixed: dict[str, str] = {}
        for d, c in zip(t.dims, cell.coords, strict=True):
            if c is not None:
                fixed[d] = _s(c)
        years = {str(y) for y in t.where.get("fiscal_year", t.fiscal_years)}
        if "fiscal_year" in fixed:
            years = {fixed.pop("fiscal_year")}
        if not years <= set(u.domains["fiscal_year"]):
            return None
        where = {k: v for k, v in t.where.items() if k != "fiscal_year"}
        out = [
            i
            for i, fc in enumerate(u.cells)
            if fc["fiscal_year"] in years
            and _admits(where, fc)
            and all(fc.get(d) == v for d, v in fixed.items())
        ]
        return np.array(out, dtype=np.int64)

    def _expression(
        self,
        u: _Universe,
        N: Mapping[tuple[int, str], np.ndarray],
        Q: Mapping[tuple[int, str, str], np.ndarray],
        r: int,
        name: str,
        measure: str,
        members: np.ndarray,
    ) -> tuple[list[int], float]:
        """The variables a measure of a cell sums, and the scale of their units."""
        spec = it.MEASURES[measure]
        if spec.kinds:
            members = np.array(
                [i for i in members if u.cells[i].get("kind") in spec.kinds], dtype=np.int64
            )
        if spec.column is None:
            return N[(r, name)][members].tolist(), 1.0
        return Q[(r, name, spec.column)][members].tolist(), float(self._scale(spec.column))

    def _true_value(
        self,
        u: _Universe,
        vec: tuple[np.ndarray, dict[str, np.ndarray]],
        t: it.Table,
        cell: it.TableCell,
        measure: str,
    ) -> float:
        members = self._members(u, t, cell)
        assert members is not None
        spec = it.MEASURES[measure]
        if spec.kinds:
            members = np.array(
                [i for i in members if u.cells[i].get("kind") in spec.kinds], dtype=np.int64
            )
        if spec.column is None:
            return float(vec[0][members].sum())
        return float(vec[1][spec.column][members].sum()) / self._scale(spec.column)

    def _own_changes(self, r: int) -> tuple[int, int]:
        """The insider's own inserts (and amendments) and deletes between releases."""
        before, after = self.own[r - 1], self.own[r]
        if before is None or after is None:
            return 0, 0
        old = {str(a.id): a for a in before}
        new = {str(a.id): a for a in after}
        adds = sum(1 for k in new if k not in old)
        dels = sum(1 for k in old if k not in new)
        amended = sum(1 for k in new if k in old and new[k] != old[k])
        return adds + amended, dels + amended

    def _check_truth(
        self,
        us: Mapping[str, _Universe],
        true: Sequence[Mapping[str, tuple[np.ndarray, dict[str, np.ndarray]]]],
    ) -> None:
        """Every published value must be what the caller's activities give: otherwise the
        harness misreads the tables (or the caller's truth is stale)."""
        for r, ts in enumerate(self.releases):
            for t in ts:
                u = us[universe_of(t)]
                for cell in t.all_cells:
                    if cell.reason is not None or self._members(u, t, cell) is None:
                        continue
                    for m in t.measures:
                        if it.MEASURES[m].distinct_units:
                            continue
                        want = self._true_value(u, true[r][u.name], t, cell, m)
                        got = float(cell.values[m] or 0.0)
                        if abs(want - got) > 1e-6 * max(1.0, abs(got)):
                            raise AttackerError(
                                f"release {r} {t.name}{cell.coords} {m}: published {got}, the "
                                f"activities give {want}"
                            )


class _Program:
    """The attacker's program, split into independent components (each target is solved
    on its own component only)."""

    def __init__(
        self,
        integ: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        A: sparse.csr_matrix,
        clo: np.ndarray,
        chi: np.ndarray,
        *,
        integral: bool,
        time_limit: float,
    ) -> None:
        self.integ, self.lb, self.ub = integ, lb, ub
        self.A, self.clo, self.chi = A, clo, chi
        self.integral, self.time_limit = integral, time_limit
        n = len(lb)
        coo = A.tocoo()
        graph = sparse.coo_matrix(
            (np.ones(coo.nnz), (coo.col, n + coo.row)), shape=(n + A.shape[0],) * 2
        )
        _, labels = connected_components(graph, directed=False)
        self.var_comp = labels[:n]
        self.row_comp = labels[n:]
        self._parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.solves = 0

    def _part(self, comp: int) -> tuple[np.ndarray, np.ndarray]:
        if comp not in self._parts:
            self._parts[comp] = (
                np.flatnonzero(self.var_comp == comp),
                np.flatnonzero(self.row_comp == comp),
            )
        return self._parts[comp]

    def extreme(self, idx: Sequence[int], *, maximize: bool, decide: float | None = None) -> float:
        """The least (or greatest) feasible value of the sum of variables ``idx``: a proven
        bound (HiGHS' dual bound when a time limit stops the search), rounded to whole units
        when every summed variable is integral.

        ``decide``: the value the caller compares the bound with; a short first search whose
        bound already lies beyond it (inside the protection interval) is not refined."""
        comps = sorted({int(self.var_comp[i]) for i in idx})
        if len(comps) > 1:
            decide = None  # a sum over components: refine each part
        total = 0.0
        for comp in comps:
            vars_, rows = self._part(comp)
            local = np.searchsorted(vars_, [i for i in idx if self.var_comp[i] == comp])
            total += self._solve(vars_, rows, local, maximize, decide)
        return total

    def _solve(
        self,
        vars_: np.ndarray,
        rows: np.ndarray,
        local: np.ndarray,
        maximize: bool,
        decide: float | None,
    ) -> float:
        c = np.zeros(len(vars_))
        c[local] = -1.0 if maximize else 1.0
        A = self.A[rows][:, vars_]
        cons = LinearConstraint(A, self.clo[rows], self.chi[rows])
        bounds = Bounds(self.lb[vars_], self.ub[vars_])
        integ = self.integ[vars_]
        whole = self.integral and bool(integ[local].all())
        # the LP relaxation first: its bound is valid, and an integral optimum is the MILP's
        lp = milp(c, bounds=bounds, constraints=cons)
        if lp.status == 2:
            raise AttackerError("the attacker's program is infeasible: the model is unsound")
        if lp.status != 0 or lp.x is None:
            raise AttackerError(f"the attacker's program failed: {lp.message}")
        best = float(lp.fun)
        if self.integral and integ.any():
            frac = np.abs(lp.x - np.round(lp.x))[integ.astype(bool)]
            limits = (QUICK, self.time_limit) if self.time_limit > QUICK else (self.time_limit,)
            for limit in limits if frac.size and frac.max() > 1e-7 else ():
                res = milp(
                    c,
                    integrality=integ,
                    bounds=bounds,
                    constraints=cons,
                    options={"time_limit": limit, "mip_rel_gap": 1e-9},
                )
                self.solves += 1
                if res.status == 2:
                    raise AttackerError(
                        "the attacker's program is infeasible: the model is unsound"
                    )
                bound = getattr(res, "mip_dual_bound", None)
                if bound is not None and np.isfinite(bound):
                    best = max(best, float(bound))  # proven, even if the time limit struck
                if res.status == 0:
                    break
                if decide is not None:
                    # the bound (in the minimised sense) already passes the protection limit
                    value = -best if maximize else best
                    if (value <= decide) if maximize else (value >= decide):
                        break
        if whole:
            best = math.ceil(best - 1e-6)  # the objective is a whole number of units
        return -best if maximize else best


def attack_release(
    profile: it.Profile,
    tables: Mapping[str, it.Table],
    activities: Iterable[it.Activity],
    *,
    fiscal_years: Iterable[int],
    own: Iterable[it.Activity] | None = None,
    **options: Any,
) -> AttackReport:
    """Attack one release: ``tables`` as published, ``activities`` every live activity."""
    att = Attacker(profile, fiscal_years=fiscal_years, **options)
    att.observe(tables, own=own)
    return att.attack([list(activities)])
