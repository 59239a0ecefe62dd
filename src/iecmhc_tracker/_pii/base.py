"""What every detector of the notes screen shares: spans, detectors and hits."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

import attrs

from .._profile import NOTE_LANGUAGES

#: the languages whose cue words the screen knows
LANGUAGES: tuple[str, ...] = NOTE_LANGUAGES

Span = tuple[int, int]


@attrs.frozen(slots=True)
class Detector:
    """One kind of personal data: ``find(text, languages)`` yields the spans that hold it."""

    kind: str
    label: str
    find: Callable[[str, frozenset[str]], Iterable[Span]] = attrs.field(repr=False)
    #: the fewest digits a text has where ``find`` can find anything (a cheap pre-check)
    min_digits: int = 0

    def __call__(self, text: str, languages: frozenset[str]) -> list[Span]:
        return sorted(set(self.find(text, languages)))


@attrs.frozen(slots=True)
class Hit:
    """What the screen found of one kind: where, as ``[start, end)`` character spans."""

    kind: str
    label: str
    spans: tuple[Span, ...]

    def where(self) -> str:
        """The spans in words, counting characters from 1: "at characters 24–35"."""
        parts = [f"{s + 1}–{e}" for s, e in self.spans[:3]]
        more = f" and {len(self.spans) - 3} more" if len(self.spans) > 3 else ""
        return f"at character{'s' if parts else ''} {', '.join(parts)}{more}"


def _fold(word: str) -> str:
    """Lower case, accents removed: how names are looked up (José and Jose alike)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- e-mail ------------------------------------------------------------------------------------
