"""Differentially private noise for a release, built as OpenDP chains.

What a release protects
    The privacy unit is the consultant (or the program, when the profile says so). Two data
    sets are neighbours when one holds all the activity of one more unit than the other
    (add/remove one unit). The input of every chain here is the vector of *bounded* cell totals
    the store's ``bounded_sums`` returned, laid out measure by measure over the release's
    public cells, and its input metric is :data:`UNITS` (d_in = how many units differ).

Per-unit sensitivity of measure ``j`` over ``n`` public cells
    The store clips each (unit, cell) partial sum to ``[0, c]`` (``c = clip[j]``), then bounds
    the unit's whole vector over the cells of measure ``j``:

    ============  ==============================  =====================================
    bounding      L1 (Laplace, pure ε)            L2 (Gaussian, ρ-zCDP)
    ============  ==============================  =====================================
    norm          ``min(B, n·c)``  (store: "l1")  ``min(B, √n·c)``  (store: "l2")
    max_cells     ``min(m, n)·c``                 ``√min(m, n)·c``
    none          ``n·c``                         ``√n·c``
    ============  ==============================  =====================================

    ``B`` is the measure's norm bound (L1 for Laplace, L2 for Gaussian: the store scales the
    unit's vector by ``min(1, B/‖v‖)``) and ``m`` is ``max_cells``. Removing a unit changes the
    released vector by exactly that unit's bounded vector, because no unit's bounding depends
    on another unit's data; so the L1/L2 distance between neighbours is at most the figure
    above, and ``d_in`` units move it at most ``d_in`` times as far (:func:`stability_map`).
    The figure is raised by a relative :data:`FLOAT_SLACK` of 1e-9 to cover rounding in the
    store's float arithmetic.

Noise
    Each measure is one chain ``select its slice >> stability (user transformation) >>
    make_laplace | make_gaussian``; a release composes them with ``dp.c.make_composition``,
    so the ε (or ρ) of the whole release is OpenDP's composition map, never a formula beside
    it. The budget is split evenly over the measures; each measure's noise scale is the closed
    form (``sens/ε_j`` or ``sens/√(2ρ_j)``) checked against OpenDP's own map, and found by
    OpenDP's binary search when float rounding makes the closed form overshoot. Integer
    measures whose bounded totals stay whole numbers (``max_cells``/no norm scaling with a
    whole-number clip) get discrete noise; everything else gets OpenDP's float noise, which is
    exact discrete noise on a fine grid (no floating-point attack).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import opendp.prelude as dp

from ._errors import StorageError

dp.enable_features("contrib", "honest-but-curious")

#: The input metric of every chain: the number of privacy units added or removed.
UNITS = dp.user_distance("privacy units added or removed")
#: float noise is exact discrete noise on the grid 2^K; OpenDP's map adds the rounding slack
#: (size * 2^K, about 1e-9 for 1224 cells) to ε, and it is charged: half the sampling time of
#: the default grid (2^-1074), which needs no slack
K = -40


def _vec(size: int | None) -> Any:
    return dp.vector_domain(dp.atom_domain(T=float, nan=False), size=size)


def _ivec(size: int | None) -> Any:
    return dp.vector_domain(dp.atom_domain(T="i64"), size=size)


#: pure ε with Laplace noise; ρ-zCDP with Gaussian noise
MECHANISMS: tuple[str, ...] = ("laplace", "gaussian")
BOUNDINGS: tuple[str, ...] = ("norm", "max_cells", "none")
#: relative allowance for rounding in the store's clipping and scaling arithmetic
FLOAT_SLACK = 1e-9


def store_norm(mechanism: str, bounding: str) -> str | None:
    """The ``norm`` argument of ``Store.bounded_sums`` for this mechanism and bounding."""
    if bounding == "norm":
        return "l1" if mechanism == "laplace" else "l2"
    if bounding == "max_cells":
        return "max_cells"
    return None


def sensitivity(
    mechanism: str,
    bounding: str,
    *,
    clip: float,
    norm_bound: float,
    max_cells: int,
    n_cells: int,
) -> float:
    """The most one unit can move one measure's vector of ``n_cells`` bounded totals, in L1
    (Laplace) or L2 (Gaussian); see the module docstring for the derivation."""
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}")
    n = max(n_cells, 1)
    if bounding == "norm":
        spread = n * clip if mechanism == "laplace" else math.sqrt(n) * clip
        exact = min(norm_bound, spread)
    elif bounding == "max_cells":
        k = min(max_cells, n)
        exact = k * clip if mechanism == "laplace" else math.sqrt(k) * clip
    elif bounding == "none":
        exact = n * clip if mechanism == "laplace" else math.sqrt(n) * clip
    else:
        raise ValueError(f"unknown bounding {bounding!r}")
    # the store's float arithmetic (sums, scaling by B/||v||) may overshoot by a few ulps
    return exact * (1.0 + FLOAT_SLACK)


def stability_map(sens: float) -> Any:
    """``d_in`` units differ -> the vector moves at most ``d_in * sens`` (L1 or L2)."""

    def _map(d_in: Any) -> float:
        units = int(d_in)
        if units < 0:
            raise ValueError("a number of units cannot be negative")
        return float(units) * sens

    return _map


def stability(
    sens: float, mechanism: str, *, integer: bool = False, size: int | None = None
) -> Any:
    """The transformation (units -> L1 or L2 on the measure's vector of ``size`` cells) with
    :func:`stability_map`."""
    metric = dp.l1_distance(T=float) if mechanism == "laplace" else dp.l2_distance(T=float)
    out = _ivec(size) if integer else _vec(size)
    return dp.t.make_user_transformation(
        _vec(size), UNITS, out, metric, _to_ints if integer else _checked, stability_map(sens)
    )


def _checked(values: Sequence[float]) -> list[float]:
    # nan=False in the domain is only a promise to OpenDP: NaN would be released as 0 + noise
    out = [float(v) for v in values]
    if not all(math.isfinite(v) for v in out):
        raise StorageError("the store returned a non-finite cell total; nothing was released")
    return out


def _to_ints(values: Sequence[float]) -> list[int]:
    out: list[int] = []
    for v in _checked(values):
        r = round(v)
        if abs(v - r) > 1e-6:
            raise StorageError(f"a count total {v} is not a whole number; nothing was released")
        out.append(int(r))
    return out


def noise_chain(
    sens: float, scale: float, mechanism: str, *, integer: bool = False, size: int
) -> Any:
    """One measure over ``size`` cells: stability >> Laplace (pure ε) or Gaussian (ρ-zCDP)."""
    t = stability(sens, mechanism, integer=integer, size=size)
    grid = {} if integer else {"k": K}
    if mechanism == "laplace":
        return t >> dp.m.then_laplace(scale=scale, **grid)
    return t >> dp.m.then_gaussian(scale=scale, **grid)


def _slice(start: int, stop: int, total: int) -> Any:
    # choosing a measure's part of the input does not change which units differ
    return dp.t.make_user_transformation(
        _vec(total), UNITS, _vec(stop - start), UNITS, lambda x: list(x[start:stop]), lambda d: d
    )


def scale_for(
    sens: float, target: float, mechanism: str, *, integer: bool = False, size: int
) -> float:
    """The smallest noise scale whose OpenDP map gives at most ``target`` (ε or ρ) for one unit:
    the closed form ``sens/ε`` or ``sens/√(2ρ)`` if OpenDP's map agrees, else a hair above it
    (the grid's slack), else OpenDP's binary search."""
    if not (target > 0 and math.isfinite(target)):
        raise ValueError("a privacy budget must be a positive finite number")
    if not (sens > 0 and math.isfinite(sens)):
        raise ValueError("a sensitivity must be a positive finite number")
    closed = sens / target if mechanism == "laplace" else sens / math.sqrt(2 * target)
    for candidate in (closed, closed * (1 + 1e-8), closed * (1 + 1e-6)):
        chain = noise_chain(sens, candidate, mechanism, integer=integer, size=size)
        if chain.map(1) <= target:
            return candidate
    found: float = dp.binary_search_param(
        lambda s: noise_chain(sens, s, mechanism, integer=integer, size=size),
        d_in=1,
        d_out=target,
    )
    return found


def half_width(noise: str, scale: float, level: float) -> float:
    """Half-width ``a`` with P(|noise| > a) <= 1 - level, from OpenDP's accuracy helpers."""
    if not 0 < level < 1:
        raise ValueError("a confidence level must lie strictly between 0 and 1, e.g. 0.95")
    helper = {
        "laplace": dp.laplacian_scale_to_accuracy,
        "discrete_laplace": dp.discrete_laplacian_scale_to_accuracy,
        "gaussian": dp.gaussian_scale_to_accuracy,
        "discrete_gaussian": dp.discrete_gaussian_scale_to_accuracy,
    }[noise]
    return float(helper(float(scale), 1.0 - level))


@attrs.frozen(slots=True)
class MeasureNoise:
    """The noise of one measure of a release."""

    measure: str
    sensitivity: float
    scale: float
    #: "laplace", "discrete_laplace", "gaussian" or "discrete_gaussian"
    noise: str
    #: this measure's share of the release's ε (Laplace) or ρ (Gaussian), from OpenDP's map
    loss: float

    def half_width(self, level: float) -> float:
        """Half-width ``a`` of the two-sided interval: P(|noise| > a) <= 1 - level."""
        return half_width(self.noise, self.scale, level)


@attrs.frozen(slots=True)
class NoisePlan:
    """Everything the noise of one release depends on; ``measurement`` is the OpenDP chain."""

    mechanism: str
    n_cells: int
    measures: tuple[MeasureNoise, ...]
    #: pure ε of the whole release (Laplace), from OpenDP's composition map
    epsilon: float | None
    #: ρ of the whole release (Gaussian), from OpenDP's composition map
    rho: float | None
    #: for Gaussian: (ε, δ) from OpenDP's zCDP -> approximate-DP conversion at ``delta``
    approx: tuple[float, float] | None
    measurement: Any = attrs.field(eq=False, repr=False)

    def run(self, vectors: Sequence[Sequence[float]]) -> list[list[float]]:
        """Draw the noise: one vector of bounded totals per measure in, noisy vectors out."""
        if len(vectors) != len(self.measures) or any(len(v) != self.n_cells for v in vectors):
            raise ValueError("one vector of n_cells totals per measure is needed")
        flat = _checked([v for vec in vectors for v in vec])
        out = self.measurement(flat)
        return [[float(v) for v in vec] for vec in out]


def plan(
    mechanism: str,
    budget: float,
    measures: Sequence[tuple[str, float, bool]],
    n_cells: int,
    *,
    delta: float = 1e-6,
) -> NoisePlan:
    """The composed OpenDP measurement of a release.

    ``measures`` are ``(name, sensitivity, integer)``; ``budget`` is ε (Laplace) or ρ
    (Gaussian) for the whole release, split evenly over the measures.
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {', '.join(MECHANISMS)}")
    if not measures:
        raise ValueError("a release needs at least one measure")
    share = budget / len(measures)
    parts: list[MeasureNoise] = []
    chains = []
    n, total_size = n_cells, n_cells * len(measures)
    for j, (name, sens, integer) in enumerate(measures):
        scale = scale_for(sens, share, mechanism, integer=integer, size=n)
        chain = noise_chain(sens, scale, mechanism, integer=integer, size=n)
        noise = ("discrete_" if integer else "") + mechanism
        parts.append(MeasureNoise(name, sens, scale, noise, float(chain.map(1))))
        chains.append(_slice(j * n, (j + 1) * n, total_size) >> chain)
    composed: Any = dp.c.make_composition(chains)
    total = float(composed.map(1))
    if mechanism == "laplace":
        return NoisePlan(mechanism, n_cells, tuple(parts), total, None, None, composed)
    fixed: Any = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(composed), delta=delta)
    eps, dlt = fixed.map(1)
    return NoisePlan(
        mechanism, n_cells, tuple(parts), None, total, (float(eps), float(dlt)), composed
    )
