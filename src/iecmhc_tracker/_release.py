"""``Release``: the noisy answer to one differentially private query, with honest intervals.

Each cell carries the noisy value and a two-sided interval at the asked level (95 % by
default) whose half-width comes from the noise distribution itself (OpenDP's accuracy
helpers): before post-processing, the interval holds the true bounded total with probability
at least the level. Post-processing is optional and labelled in the metadata:

``clamp``
    the value *and both interval ends* are raised to 0 where negative. Every bounded total is
    >= 0, so an interval that held it still holds it after clamping.
``round``
    counts to whole numbers, other measures to two decimals; the interval's low end is rounded
    down and its high end up, so it still holds whatever it held.
"""

from __future__ import annotations

import copy
import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._accounting import shown
from ._dp import half_width
from ._errors import invalid

if TYPE_CHECKING:
    import pandas as pd

POSTPROCESSING: tuple[str, ...] = ("clamp", "round")
#: budgets in a release's metadata, shown rounded (``_accounting.shown``)
_BUDGETS = ("epsilon", "rho", "charged_epsilon", "release_budget", "auto_loss")


@attrs.frozen(slots=True)
class Estimate:
    """One released cell of one measure."""

    cell: tuple[Any, ...]
    measure: str
    value: float
    ci_low: float
    ci_high: float


def check_postprocess(postprocess: Sequence[str] | str | None) -> tuple[str, ...]:
    """The asked post-processing steps in canonical order (``clamp`` before ``round``)."""
    asked = (postprocess,) if isinstance(postprocess, str) else tuple(postprocess or ())
    unknown = [p for p in asked if p not in POSTPROCESSING]
    if unknown:
        raise invalid(
            "postprocess",
            "unknown",
            f"unknown post-processing {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(POSTPROCESSING)} (or none)",
        )
    return tuple(p for p in POSTPROCESSING if p in asked)


def estimate(
    noisy: float, half: float, *, integer: bool, postprocess: Sequence[str]
) -> tuple[float, float, float]:
    """``(value, ci_low, ci_high)`` of one cell after the (canonical) post-processing."""
    value, low, high = noisy, noisy - half, noisy + half
    if "clamp" in postprocess:
        value, low, high = max(value, 0.0), max(low, 0.0), max(high, 0.0)
    if "round" in postprocess:
        digits = 0 if integer else 2
        step = 10.0**-digits
        value = round(value, digits)
        lo, hi = (
            round(math.floor(low / step) * step, digits),
            round(math.ceil(high / step) * step, digits),
        )
        # float representation may leave an end a hair inside: widen by one step then
        low = lo if lo <= low else round(lo - step, digits)
        high = hi if hi >= high else round(hi + step, digits)
        value, low, high = float(value), float(low), float(high)
    return value, low, high


@attrs.frozen(slots=True)
class Release:
    """A differentially private release: one :class:`Estimate` per (public cell, measure).

    ``metadata`` says how it was made: ``mechanism``, ``epsilon`` (Laplace) or ``rho`` and
    ``epsilon_delta`` (Gaussian), ``delta``, per-measure ``bounds`` (clip per cell),
    ``norm_bounds``, ``sensitivity``, ``scale`` and ``noise``, ``bounding``, ``unit``,
    ``analyst`` (who is served), ``query``, ``fiscal_years`` (the fiscal years of data read,
    each charged ``charged_epsilon``), ``data`` (an opaque digest of the store and its data
    version: equal digests, equal data), ``time`` (when it was served), ``level``,
    ``postprocess`` and ``cached`` (True when served again from the release cache at no cost).
    Budgets (``epsilon``, ``rho``, ``epsilon_delta``, ``charged_epsilon``) are shown rounded
    to six significant digits; ``session.history()`` has the exact charge.
    A cached release carries nothing of who asked first or when.
    """

    dims: tuple[str, ...]
    measures: tuple[str, ...]
    estimates: tuple[Estimate, ...]
    metadata: Mapping[str, Any] = attrs.field(hash=False)
    #: per dimension, the profile's label of each code (public; shown beside the codes)
    labels: Mapping[str, Mapping[Any, str]] = attrs.field(factory=dict, hash=False, eq=False)

    @classmethod
    def from_noisy(
        cls,
        raw: Mapping[str, Any],
        *,
        analyst: str,
        level: float,
        postprocess: Sequence[str],
        cached: bool,
        labels: Mapping[str, Mapping[Any, str]] | None = None,
    ) -> Release:
        """Build a release from the noisy totals kept for a query (see ``_researcher``)."""
        steps = check_postprocess(postprocess)
        noise = raw["noise"]
        halves = [half_width(n["noise"], n["scale"], level) for n in noise]
        out: list[Estimate] = []
        for j, name in enumerate(raw["measures"]):
            integer = bool(noise[j]["integer"])
            for cell, v in zip(raw["keys"], raw["noisy"][j], strict=True):
                value, low, high = estimate(v, halves[j], integer=integer, postprocess=steps)
                out.append(Estimate(tuple(cell), name, value, low, high))
        meta = {k: copy.deepcopy(v) for k, v in raw.items() if k not in ("keys", "noisy", "noise")}
        meta.update(
            analyst=analyst,
            level=level,
            postprocess=list(steps),
            cached=cached,
            bounds={n["measure"]: n["clip"] for n in noise},
            norm_bounds={n["measure"]: n["norm_bound"] for n in noise},
            sensitivity={n["measure"]: n["sensitivity"] for n in noise},
            scale={n["measure"]: n["scale"] for n in noise},
            noise={n["measure"]: n["noise"] for n in noise},
            half_width={n["measure"]: h for n, h in zip(noise, halves, strict=True)},
            integer={n["measure"]: bool(n["integer"]) for n in noise},
        )
        # budgets as people read them; the ledger (``history()``) keeps the exact charge
        for name in _BUDGETS:
            if isinstance(meta.get(name), int | float):
                meta[name] = shown(meta[name])
        if meta.get("epsilon_delta"):
            meta["epsilon_delta"] = [shown(v) for v in meta["epsilon_delta"]]
        return cls(tuple(raw["dims"]), tuple(raw["measures"]), tuple(out), meta, labels or {})

    def __len__(self) -> int:
        return len(self.estimates)

    def value(self, measure: str, **cell: Any) -> float:
        """The released value of ``measure`` in the cell named by its dimensions."""
        want = tuple(cell.get(d) for d in self.dims)
        if set(cell) != set(self.dims):
            raise KeyError(f"name every dimension of the release: {', '.join(self.dims)}")
        for e in self.estimates:
            if e.measure == measure and e.cell == want:
                return e.value
        raise KeyError(f"no released cell {cell} for measure {measure!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"dims", "measures", "cells": [...], "metadata": {...}}``."""
        return {
            "dims": list(self.dims),
            "measures": list(self.measures),
            "cells": [
                {
                    **dict(zip(self.dims, e.cell, strict=True)),
                    "measure": e.measure,
                    "value": e.value,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                }
                for e in self.estimates
            ],
            "metadata": copy.deepcopy(dict(self.metadata)),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per (cell, measure): the dimensions (each coded one with its label beside
        it, ``county_label``), ``measure``, ``value``, ``ci_low``, ``ci_high``; the metadata in
        ``.attrs``. Counts rounded to whole numbers are integers when every measure is one."""
        import pandas as pd

        columns = [*self.dims, "measure", "value", "ci_low", "ci_high"]
        frame = pd.DataFrame(
            [(*e.cell, e.measure, e.value, e.ci_low, e.ci_high) for e in self.estimates],
            columns=columns,
        )
        for i, d in reversed(list(enumerate(self.dims))):
            if self.labels.get(d):
                names = self.labels[d]
                frame.insert(i + 1, f"{d}_label", [names.get(v, str(v)) for v in frame[d]])
        whole = self.metadata.get("integer", {})
        rounded = "round" in self.metadata.get("postprocess", ())
        if rounded and self.measures and all(whole.get(m) for m in self.measures):
            frame = frame.astype({"value": "int64", "ci_low": "int64", "ci_high": "int64"})
        frame.attrs.update(copy.deepcopy(dict(self.metadata)))
        return frame

    def _repr_html_(self) -> str:
        m = self.metadata
        if m.get("mechanism") == "gaussian":
            eps, dlt = m.get("epsilon_delta") or (float("nan"), float("nan"))
            budget = f"ρ = {m.get('rho'):.4g} (ε = {eps:.4g} at δ = {dlt:.1g})"
        else:
            budget = f"ε = {m.get('epsilon'):.4g}"
        level = round(100 * float(m.get("level", 0.95)), 1)
        steps = ", ".join(m.get("postprocess", []))
        head = (
            f"<p><b>Differentially private release</b> ({html.escape(str(m.get('mechanism')))}, "
            f"{html.escape(budget)}, unit: {html.escape(str(m.get('unit')))}"
            f"{', served from cache' if m.get('cached') else ''}); {level:g} % intervals"
            f"{'; post-processed: ' + html.escape(steps) if steps else ''}"
            "</p>"
        )
        cols = [*self.dims, "measure", "value", "ci_low", "ci_high"]
        rows = []
        for e in self.estimates[:200]:
            cells = [*e.cell, e.measure, _fmt(e.value), _fmt(e.ci_low), _fmt(e.ci_high)]
            rows.append(
                "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"
            )
        more = len(self.estimates) - 200
        tail = f"<p>… and {more} more rows (use to_pandas())</p>" if more > 0 else ""
        return (
            head
            + "<table><thead><tr>"
            + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
            + tail
        )


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
