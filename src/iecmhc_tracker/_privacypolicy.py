"""A profile's privacy policy (``[privacy]``): suppression of the state's tables and the
differential-privacy budget, defaults and bounds of researchers' releases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._measures import MEASURES
from ._tomltext import TomlReader

PRIVACY_UNITS: frozenset[str] = frozenset({"consultant", "program"})


@attrs.frozen(slots=True)
class SuppressionPolicy:
    min_consultants: int = 3
    min_count: int = 11
    dominance: float = 0.8
    protection: float = 0.2


#: Keys a profile may no longer set, and what replaced them.
RETIRED_DP_KEYS: Mapping[str, str] = {
    "period": "budgets now belong to the fiscal years of data a release reads; set "
    "lifetime_epsilon_per_fiscal_year and analyst_epsilon_per_fiscal_year instead",
    "budget_epsilon": "replaced by analyst_epsilon_per_fiscal_year (each analyst's allotment "
    "per fiscal year of data) under lifetime_epsilon_per_fiscal_year (everyone's cap)",
    "budget_rho": "ρ releases are charged in ε at the profile's delta; set "
    "analyst_epsilon_per_fiscal_year instead",
}


@attrs.frozen(slots=True)
class DPPolicy:
    """Differential-privacy policy: the budget per fiscal year of data, defaults and bounds.

    Every fiscal year of data is one partition of the ledger. Over the life of the data,
    everyone together (every analyst and the state's DP tables) may spend at most
    ``lifetime_epsilon_per_fiscal_year`` on it; one analyst at most
    ``analyst_epsilon_per_fiscal_year`` of that, the state at most
    ``state_epsilon_per_fiscal_year``. ρ-zCDP releases are charged in ε at ``delta``.
    """

    unit: str = "consultant"
    lifetime_epsilon_per_fiscal_year: float = 4.0
    analyst_epsilon_per_fiscal_year: float = 2.0
    state_epsilon_per_fiscal_year: float = 0.0
    delta: float = 1e-6
    default_epsilon: float = 0.5
    default_rho: float = 0.05
    max_cells: int = 12
    bounding: str = "norm"
    #: per measure: the most one unit may add to one cell
    bounds: Mapping[str, float] = attrs.field(factory=dict, hash=False)
    #: per measure: the most one unit may add across all cells of a release (L1 norm)
    norm_bounds: Mapping[str, float] = attrs.field(factory=dict, hash=False)


def read_privacy(r: TomlReader, raw: Mapping[str, Any]) -> tuple[SuppressionPolicy, DPPolicy]:
    """A profile's ``[privacy]``: its suppression and differential-privacy policies."""
    s = r.table(raw, "suppression", "privacy.")
    p = "privacy.suppression."
    dominance = r.number(s, "dominance", p, 0.8, positive=True)
    if not 0 < dominance <= 1:
        raise r.fail_at(p + "dominance", "must be a share in (0, 1], e.g. 0.8 for 80 %")
    supp = SuppressionPolicy(
        min_consultants=r.whole(s, "min_consultants", p, 3),
        min_count=r.whole(s, "min_count", p, 11),
        dominance=dominance,
        protection=r.number(s, "protection", p, 0.2),
    )
    d = r.table(raw, "dp", "privacy.")
    p = "privacy.dp."
    for old, why in RETIRED_DP_KEYS.items():
        if old in d:
            raise r.fail_at(p + old, f"is no longer read: {why}")
    unit = d.get("unit", "consultant")
    if unit not in PRIVACY_UNITS:
        raise r.fail_at(p + "unit", f"privacy unit must be consultant or program, not {unit!r}")
    bounding = d.get("bounding", "norm")
    if bounding not in ("norm", "max_cells"):
        raise r.fail_at(p + "bounding", f"must be norm or max_cells, not {bounding!r}")

    bounds = r.table(d, "bounds", p)
    norms = r.table(d, "norm_bounds", p)
    for table, key in ((bounds, "bounds"), (norms, "norm_bounds")):
        for m in table:
            if m not in MEASURES:
                raise r.fail_at(
                    f"{p}{key}.{m}", f"unknown measure {m!r}; measures: {', '.join(MEASURES)}"
                )
            r.number(table, m, f"{p}{key}.", 0.0, positive=True)
    lifetime = r.number(d, "lifetime_epsilon_per_fiscal_year", p, 4.0)
    analyst = r.number(d, "analyst_epsilon_per_fiscal_year", p, min(2.0, lifetime))
    state = r.number(d, "state_epsilon_per_fiscal_year", p, 0.0)
    for key, value in (
        ("analyst_epsilon_per_fiscal_year", analyst),
        ("state_epsilon_per_fiscal_year", state),
    ):
        if value > lifetime:
            raise r.fail_at(
                p + key,
                f"{value:g} is more than lifetime_epsilon_per_fiscal_year ({lifetime:g}), "
                "the cap everyone's releases of a fiscal year of data share",
            )
    delta = r.number(d, "delta", p, 1e-6, positive=True)
    if not delta < 1:
        raise r.fail_at(p + "delta", f"must lie strictly between 0 and 1, not {delta!r}")
    policy = DPPolicy(
        unit=unit,
        lifetime_epsilon_per_fiscal_year=lifetime,
        analyst_epsilon_per_fiscal_year=analyst,
        state_epsilon_per_fiscal_year=state,
        delta=delta,
        default_epsilon=r.number(d, "default_epsilon", p, 0.5, positive=True),
        default_rho=r.number(d, "default_rho", p, 0.05, positive=True),
        max_cells=r.whole(d, "max_cells", p, 12),
        bounding=bounding,
        bounds={k: float(v) for k, v in bounds.items()},
        norm_bounds={k: float(v) for k, v in norms.items()},
    )
    return supp, policy
