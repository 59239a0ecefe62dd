"""Matching what people type to a profile's codes: "Cook" is ``cook``, "La Paz" is ``la_paz``.

A typed value matches a code when, ignoring case, accents and the characters between words,
it equals the code or the code's label. A value matching nothing gets the nearest codes as
"did you mean" (:mod:`difflib`). Lists in messages are never cut without saying where the
whole list is.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence

#: what may stand between the words of a code or label ("La Paz", "la-paz", "St. Clair");
#: any other character (a control character, a quote, a semicolon) is kept, so matches nothing
_BETWEEN_WORDS = re.compile(r"[\s\-_.,'’/&()]+")
#: how many codes a message lists before it says how many more there are, and where
SHOWN = 12


def fold(text: str) -> str:
    """``text`` without case, accents or the separators between words: "La Paz", "la-paz"
    and "LA PAZ" fold to "la_paz", "Doña Ana" to "dona_ana"."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return _BETWEEN_WORDS.sub("_", plain).strip("_")


class CodeMatcher:
    """One field's codes and labels, ready to match typed values against."""

    __slots__ = ("_codes", "_index")

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._codes: dict[str, str] = {}
        self._index: dict[str, str] = {}
        for code, label in pairs:
            self._codes[code] = label
        # a code's own folded form wins over another code's label folding the same way
        for code, label in self._codes.items():
            self._index.setdefault(fold(label), code)
        for code in self._codes:
            self._index[fold(code)] = code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._codes)

    def match(self, value: str) -> str | None:
        """The code ``value`` names (the code itself, or its label, in any case and with or
        without accents); ``None`` when it names none."""
        if value in self._codes:
            return value
        if not value.isprintable() or len(value) > 200:
            return None  # a control character is never a spelling of a code
        return self._index.get(fold(value))

    def suggest(self, value: str, n: int = 3) -> list[str]:
        """The codes nearest ``value`` (by code or label), best first; maybe none."""
        near = difflib.get_close_matches(fold(value), list(self._index), n=n * 2, cutoff=0.6)
        return list(dict.fromkeys(self._index[k] for k in near))[:n]


def listing(items: Sequence[str], field: str, shown: int = SHOWN) -> str:
    """``items`` joined by commas; past ``shown`` of them, how many more and where all are."""
    if len(items) <= shown:
        return ", ".join(items)
    more = len(items) - shown
    return f"{', '.join(items[:shown])} … and {more} more: `iecmhc profile codes {field}`"


def unknown_code(field: str, value: str, matcher: CodeMatcher) -> str:
    """The message for a value of ``field`` that matches none of its codes."""
    safe = (
        value
        if len(value) <= 40 and value.isprintable()
        else value[:40].encode("unicode_escape").decode()
    )
    near = matcher.suggest(value) if value.isprintable() and len(value) <= 80 else []
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    every = listing(sorted(matcher.codes), field)
    return f"unknown {field} code {safe!r}{hint} ({field} codes: {every})"
