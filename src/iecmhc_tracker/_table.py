"""``Table``: one released state table — cells, margins, suppression flags and metadata.

A Table is what the state role receives. Withheld values are ``None`` in every output
(``to_records``, ``to_dict``, ``_repr_html_``; ``<NA>`` in ``to_pandas``) and such a cell is
flagged ``"withheld"``, nothing more: which test a cell failed (too few consultants or records,
one dominant consultant, or withheld to protect another cell) would tell an attacker how many
records it holds. Consultant and program ids never appear in a Table, and neither does any
true value of a withheld cell: the table holds only what is published.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._measures import MEASURES
from ._profile import SuppressionPolicy

if TYPE_CHECKING:
    import pandas as pd

#: The flag of a withheld cell (``None``: published); one flag for every reason.
WITHHELD = "withheld"
REASONS: tuple[str, ...] = (WITHHELD,)
TOTAL_LABEL = "Total"
#: Coordinate of rows whose dimension value was not recorded (codes never start with "_").
NOT_RECORDED = "_none"

Coords = tuple[Any, ...]


@attrs.frozen(slots=True)
class TableCell:
    """One cell: ``coords`` holds a code per dimension, ``None`` where the cell is a total
    over that dimension (a margin); ``values`` is ``None`` per measure when withheld."""

    coords: Coords
    labels: tuple[str, ...]
    values: Mapping[str, float | None] = attrs.field(hash=False)
    reason: str | None = None

    @property
    def margin(self) -> bool:
        """True for row, column and grand totals."""
        return any(c is None for c in self.coords)

    @property
    def withheld(self) -> bool:
        return self.reason is not None

    @property
    def flags(self) -> dict[str, str | None]:
        """The suppression flag of each measure's value (a withheld cell is withheld in all)."""
        return {m: self.reason for m in self.values}


@attrs.frozen(slots=True)
class Table:
    """A suppressed state table as published: see the module docstring."""

    name: str
    title: str
    profile: str
    profile_label: str
    measures: tuple[str, ...]
    dims: tuple[str, ...]
    where: Mapping[str, tuple[Any, ...]] = attrs.field(hash=False)
    policy: SuppressionPolicy
    generated_at: dt.datetime
    fiscal_years: tuple[int, ...]
    #: inner cells (one per combination of dimension codes)
    cells: tuple[TableCell, ...]
    #: row, column and grand totals (every total over one or more dimensions, except that
    #: fiscal years are never added together: each year has its own margins)
    margins: tuple[TableCell, ...]
    #: an opaque digest of the data the table was released from (equal data, equal digest)
    data_version: str | None = None
    #: ``"suppression"`` (exact values, some withheld) or ``"dp"`` (every value noisy)
    mode: str = "suppression"
    #: a DP table's noise: ε, mechanism, per-measure half-widths, bounds … (see ``_dptables``)
    dp: Mapping[str, Any] | None = attrs.field(default=None, hash=False)

    # -- lookups -------------------------------------------------------------------------
    @property
    def all_cells(self) -> tuple[TableCell, ...]:
        return self.cells + self.margins

    @property
    def total(self) -> TableCell | None:
        """The grand total (the cell that totals over every dimension)."""
        for c in self.margins:
            if all(x is None for x in c.coords):
                return c
        return self.cells[0] if not self.dims and self.cells else None

    def cell(self, *coords: Any, **by_dim: Any) -> TableCell:
        """The cell at ``coords`` (codes in dimension order, ``None`` for a total), or named:
        ``table.cell(consultation_type="classroom", fiscal_year=2025)``."""
        if by_dim:
            unknown = set(by_dim) - set(self.dims)
            if unknown or coords:
                raise KeyError(f"name each of {self.dims} (unknown: {sorted(unknown)})")
            coords = tuple(by_dim.get(d) for d in self.dims)
        for c in self.all_cells:
            if c.coords == tuple(coords):
                return c
        raise KeyError(coords)

    def value(self, measure: str, *coords: Any, **by_dim: Any) -> float | None:
        """A published value, or ``None`` when withheld."""
        return self.cell(*coords, **by_dim).values[measure]

    def counts(self) -> dict[str, int]:
        """How many cells (inner and margins) are published and withheld, by reason."""
        out = {"cells": len(self.all_cells), "published": 0, **dict.fromkeys(REASONS, 0)}
        for c in self.all_cells:
            out[c.reason or "published"] += 1
        return out

    def select(self, **fixed: Any) -> Table:
        """The slice of this table at fixed codes, e.g. ``select(fiscal_year=2025)``.

        The slice reuses this table's suppression (never suppresses anew), so publishing a
        slice next to the whole table reveals nothing more.
        """
        unknown = set(fixed) - set(self.dims)
        if unknown:
            raise KeyError(f"{', '.join(sorted(unknown))} is not a dimension of {self.name}")
        pos = {i: fixed[d] for i, d in enumerate(self.dims) if d in fixed}
        keep = [i for i in range(len(self.dims)) if i not in pos]

        def sub(c: TableCell) -> TableCell | None:
            if any(c.coords[i] != v for i, v in pos.items()):
                return None
            return TableCell(
                tuple(c.coords[i] for i in keep),
                tuple(c.labels[i] for i in keep),
                c.values,
                c.reason,
            )

        cells = [s for c in self.cells if (s := sub(c)) is not None]
        margins = [s for c in self.margins if (s := sub(c)) is not None]
        where = dict(self.where)
        where.update({d: (v,) for d, v in fixed.items()})
        return Table(
            name=self.name,
            title=self.title,
            profile=self.profile,
            profile_label=self.profile_label,
            measures=self.measures,
            dims=tuple(self.dims[i] for i in keep),
            where=where,
            policy=self.policy,
            generated_at=self.generated_at,
            fiscal_years=tuple(y for y in self.fiscal_years if fixed.get("fiscal_year", y) == y),
            cells=tuple(cells),
            margins=tuple(margins),
            data_version=self.data_version,
            mode=self.mode,
            dp=self.dp,
        )

    def only(self, measures: tuple[str, ...]) -> Table:
        """The same table with fewer measures (same suppression)."""
        unknown = set(measures) - set(self.measures)
        if unknown:
            raise KeyError(f"{', '.join(sorted(unknown))} is not a measure of {self.name}")

        def sub(c: TableCell) -> TableCell:
            return TableCell(c.coords, c.labels, {m: c.values[m] for m in measures}, c.reason)

        dp = None
        if self.dp is not None:
            dp = {k: _keep(v, measures) for k, v in self.dp.items()}
        return attrs.evolve(
            self,
            dp=dp,
            measures=tuple(measures),
            cells=tuple(sub(c) for c in self.cells),
            margins=tuple(sub(c) for c in self.margins),
        )

    # -- outputs -------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """Profile, query and policy metadata (JSON-able). A DP table (``mode == "dp"``) has
        no suppression policy; it adds how its noise was made (``epsilon``, ``mechanism``,
        ``half_width`` per measure at ``level``, ``margin_half_width``, bounds …)."""
        meta = {
            "table": self.name,
            "title": self.title,
            "profile": self.profile,
            "profile_label": self.profile_label,
            "measures": list(self.measures),
            "measure_labels": {m: MEASURES[m].label for m in self.measures},
            "dimensions": list(self.dims),
            "where": {k: list(v) for k, v in self.where.items()},
            "fiscal_years": list(self.fiscal_years),
            "policy": {
                "min_consultants": self.policy.min_consultants,
                "min_count": self.policy.min_count,
                "dominance": self.policy.dominance,
                "protection": self.policy.protection,
            }
            if self.dp is None
            else None,
            "generated_at": self.generated_at.isoformat(),
            "data_version": self.data_version,
            "mode": self.mode,
        }
        if self.dp is not None:
            meta.update(copy.deepcopy(dict(self.dp)))
        return meta

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per cell (inner cells first, then margins): each dimension's code
        (``None`` for a total) and label, ``margin``, each measure's value (``None`` when
        withheld) and its flag ``<measure>_flag``."""
        out = []
        for c in self.all_cells:
            rec: dict[str, Any] = {}
            for d, code, label in zip(self.dims, c.coords, c.labels, strict=True):
                rec[d] = code
                rec[f"{d}_label"] = label
            rec["margin"] = c.margin
            for m in self.measures:
                v = c.values[m]
                rec[m] = _number(m, v)
                rec[f"{m}_flag"] = c.reason
            out.append(rec)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Metadata and records, JSON-able."""
        return {"metadata": self.metadata(), "cells": self.to_records()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Table:
        """The table ``to_dict`` gave (the publication ledger keeps tables so)."""
        meta = data["metadata"]
        dims = tuple(meta["dimensions"])
        measures = tuple(meta["measures"])
        inner: list[TableCell] = []
        margins: list[TableCell] = []
        for rec in data["cells"]:
            cell = TableCell(
                tuple(rec[d] for d in dims),
                tuple(rec[f"{d}_label"] for d in dims),
                {m: None if rec[m] is None else float(rec[m]) for m in measures},
                next((rec[f"{m}_flag"] for m in measures if rec[f"{m}_flag"]), None),
            )
            (margins if rec["margin"] else inner).append(cell)
        policy = meta["policy"]
        mode = meta.get("mode", "suppression")
        dp = {k: v for k, v in meta.items() if k not in _BASE_METADATA} if mode == "dp" else None
        return cls(
            name=meta["table"],
            title=meta["title"],
            profile=meta["profile"],
            profile_label=meta["profile_label"],
            measures=measures,
            dims=dims,
            where={k: tuple(v) for k, v in meta["where"].items()},
            policy=SuppressionPolicy(**policy) if policy else SuppressionPolicy(),
            generated_at=dt.datetime.fromisoformat(meta["generated_at"]),
            fiscal_years=tuple(meta["fiscal_years"]),
            cells=tuple(inner),
            margins=tuple(margins),
            data_version=meta["data_version"],
            mode=mode,
            dp=dp,
        )

    def to_pandas(self) -> pd.DataFrame:
        """One row per cell (margins included, ``margin`` column); measure columns are
        nullable floats (``<NA>`` when withheld) beside ``<measure>_flag``; metadata in
        ``.attrs``."""
        import pandas as pd

        df = pd.DataFrame.from_records(
            self.to_records(),
            columns=[
                *(x for d in self.dims for x in (d, f"{d}_label")),
                "margin",
                *(x for m in self.measures for x in (m, f"{m}_flag")),
            ],
        )
        for m in self.measures:
            df[m] = df[m].astype("Float64")
            df[f"{m}_flag"] = df[f"{m}_flag"].astype("object")
        df.attrs.update(self.metadata())
        return df

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(_dim_label(d))}</th>" for d in self.dims) + "".join(
            f"<th>{e(MEASURES[m].label)}</th>" for m in self.measures
        )
        rows = []
        for c in self.all_cells:
            tds = "".join(f"<td>{e(lbl)}</td>" for lbl in c.labels)
            for m in self.measures:
                v = c.values[m]
                if v is None:
                    tds += '<td title="withheld">—</td>'
                else:
                    tds += f"<td>{e(_fmt(m, v))}</td>"
            style = ' style="font-weight:bold"' if c.margin else ""
            rows.append(f"<tr{style}>{tds}</tr>")
        p = self.policy
        note = (
            f"— withheld: fewer than {p.min_consultants} consultants or {p.min_count} records, "
            f"one consultant above {p.dominance:.0%}, or withheld so that no other withheld "
            "number can be worked out"
        )
        if self.dp is not None:
            note = dp_note(self)
        return (
            f"<table><caption>{e(self.title)} ({e(self.profile_label)})</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            f"<tfoot><tr><td colspan={len(self.dims) + len(self.measures)}>{e(note)}"
            "</td></tr></tfoot></table>"
        )


#: the metadata keys of every table; a DP table's other keys describe its noise
_BASE_METADATA = frozenset(
    {
        "table",
        "title",
        "profile",
        "profile_label",
        "measures",
        "measure_labels",
        "dimensions",
        "where",
        "fiscal_years",
        "policy",
        "generated_at",
        "data_version",
        "mode",
    }
)


def dp_note(table: Table) -> str:
    """What a reader of a DP table must know, in one sentence (and its note, if any)."""
    meta = table.dp or {}
    widths = meta.get("half_width") or {}
    halves = ", ".join(f"{MEASURES[m].label.lower()} ±{_fmt(m, h)}" for m, h in widths.items())
    text = (
        f"Every number has random noise added (differential privacy, ε = "
        f"{meta.get('epsilon', 0):.3g}); nothing is withheld. 95 % of cells lie within "
        f"{halves} of their total with each consultant's contribution counted up to the "
        "profile's bounds; totals are sums of the noisy cells before rounding."
    )
    return f"{text} {meta['note']}" if meta.get("note") else text


def _keep(value: Any, measures: tuple[str, ...]) -> Any:
    """Per-measure metadata narrowed to ``measures`` (anything else unchanged)."""
    if isinstance(value, Mapping) and set(value) <= set(MEASURES) and value:
        return {m: v for m, v in value.items() if m in measures}
    if isinstance(value, list):
        return [_keep(v, measures) for v in value]
    if isinstance(value, Mapping):
        return {k: _keep(v, measures) for k, v in value.items()}
    return value


def _number(measure: str, v: float | None) -> float | int | None:
    if v is None:
        return None
    spec = MEASURES.get(measure)
    if spec is not None and spec.integer and float(v).is_integer():
        return int(v)
    return float(v)


def _fmt(measure: str, v: float) -> str:
    n = _number(measure, v)
    return f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"


def _dim_label(dim: str) -> str:
    return dim.replace("_", " ").capitalize()
