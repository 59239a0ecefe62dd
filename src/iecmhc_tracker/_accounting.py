"""The one accountant of differentially private releases: partitions, currency, analysts.

Partitions
    The ledger's partitions are the fiscal years of data: a release is charged on every fiscal
    year whose rows it may read (its ``where`` and keys decide which), never on today's date.
    Fiscal years are disjoint sets of rows, so releases on different years compose in parallel:
    what one consultant's FY2024 rows can reveal is governed by the FY2024 account alone.

Currency
    Everything is charged in ε. A pure-ε (Laplace) release costs its ε. A ρ-zCDP (Gaussian)
    release costs ``ε = ρ + 2·√(ρ·ln(1/δ))`` at the profile's δ (Bun & Steinke 2016,
    Proposition 1.3): it is (ε, δ)-DP, and (ε, δ)-DP releases compose by adding their ε (and
    their δ). So a mix of both kinds can never pass a cap stated in ε.

Shown, not kept
    OpenDP's map of a release asked at ε = 1 may be 0.9999999900000457 (the noise grid's slack
    and float rounding). The ledger keeps and charges that exact figure; what a release or a
    preview shows a person is :func:`shown`: rounded to :data:`SHOWN_DIGITS` significant digits.

Analysts
    An analyst id is compared after NFKC normalisation, case folding and trimming (runs of
    white space become one space); an id with a control or invisible formatting character
    (zero-width space, bidi marks …) is refused rather than silently matched to another.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable

from ._errors import invalid

#: the account the state's DP tables charge (an analyst may not take the name)
STATE_ACCOUNT = "state"
#: longest analyst id the ledger keeps
MAX_ANALYST = 64


#: significant digits of the budgets a release's metadata and a preview show
SHOWN_DIGITS = 6


def shown(amount: float) -> float:
    """A budget as shown to people (``0.9999999900000457`` → ``1.0``); the ledger keeps it exact."""
    return float(f"{amount:.{SHOWN_DIGITS}g}")


def rho_to_epsilon(rho: float, delta: float) -> float:
    """The ε at which a ρ-zCDP release is (ε, δ)-DP: ``ρ + 2·√(ρ·ln(1/δ))``."""
    if not (rho >= 0 and math.isfinite(rho)) or not 0 < delta < 1:
        raise ValueError(f"need rho >= 0 finite and 0 < delta < 1, not {rho!r}, {delta!r}")
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


def partition(fiscal_year: int) -> str:
    """The ledger's name of the partition holding one fiscal year of data: ``"FY2025"``."""
    return f"FY{int(fiscal_year)}"


def partitions(fiscal_years: Iterable[int]) -> tuple[str, ...]:
    return tuple(partition(y) for y in sorted(set(fiscal_years)))


def fiscal_year_of(name: str) -> int:
    """The fiscal year a partition name stands for (``"FY2025"`` -> 2025)."""
    return int(name[2:])


def _invisible(ch: str) -> bool:
    # Cc: controls (tab, newline, NUL …); Cf: format characters (zero-width space, joiners,
    # bidi controls, soft hyphen); Zl/Zp: line and paragraph separators; Co/Cn: private use and
    # unassigned. The Hangul fillers and the braille blank are letters that draw nothing.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn") or ch in (
        "\u115f\u1160\u3164\uffa0\u2800"
    )


def normalise_analyst(raw: object) -> str:
    """The canonical form of an analyst id, or ``ValidationError`` (field ``analyst``)."""
    if not isinstance(raw, str):
        raise invalid("analyst", "type", "name the analyst with a string, e.g. 'analyst-1'")
    # white space around the id (a trailing tab or newline from a form or a file) is trimmed;
    # anything invisible inside it is refused
    bad = sorted({f"U+{ord(ch):04X}" for ch in raw.strip() if _invisible(ch)})
    if bad:
        raise invalid(
            "analyst",
            "invisible",
            f"the analyst id contains invisible or control characters ({', '.join(bad)}); "
            "type it without them",
        )
    text = " ".join(unicodedata.normalize("NFKC", raw.strip()).casefold().split())
    # NFKC after case folding: folding may produce text that is not NFKC (e.g. "ǅ")
    text = unicodedata.normalize("NFKC", text)
    if not text:
        raise invalid(
            "analyst", "required", "name the analyst, e.g. tracker.as_researcher('analyst-1')"
        )
    if len(text) > MAX_ANALYST:
        raise invalid("analyst", "too_long", f"an analyst id has at most {MAX_ANALYST} characters")
    if text == STATE_ACCOUNT:
        raise invalid(
            "analyst", "reserved", f"{STATE_ACCOUNT!r} is the state's account; name the analyst"
        )
    return text
