"""The screen: every detector over a note, in the profile's languages."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable

from .._profile import SHIPPED, load_profile
from .base import LANGUAGES, Detector, Hit
from .names import _Names
from .numbers import (
    _address,
    _case,
    _date_of_birth,
    _email,
    _itin,
    _medicaid,
    _phone,
    _record,
    _ssn,
)


class Screen:
    """The detectors for a set of languages, knowing a profile's place names (its counties)."""

    def __init__(self, languages: Iterable[str] = LANGUAGES, places: Collection[str] = ()) -> None:
        langs = frozenset(languages)
        unknown = langs - set(LANGUAGES)
        if unknown or not langs:
            raise ValueError(f"unknown note languages {sorted(unknown)}; known: {LANGUAGES}")
        self.languages = langs
        names = _Names(langs, places)
        self.detectors: tuple[Detector, ...] = (
            Detector("email", "an e-mail address", _email),
            Detector("phone", "a phone number", _phone, min_digits=7),
            Detector("ssn", "a social security number", _ssn, min_digits=4),
            Detector("itin", "a taxpayer identification number (ITIN)", _itin, min_digits=9),
            Detector("medicaid_id", "a Medicaid number", _medicaid, min_digits=4),
            Detector("case_number", "a case number", _case, min_digits=4),
            Detector("record_number", "a record or ID number", _record, min_digits=4),
            Detector("date_of_birth", "a date of birth", _date_of_birth, min_digits=1),
            Detector("address", "a street address or post-office box", _address, min_digits=1),
            Detector("name", "a person's name", lambda text, _langs: names(text)),
        )

    def __call__(self, text: str) -> list[Hit]:
        """What the detectors find in ``text``: one hit per kind, in a fixed order."""
        hits: list[Hit] = []
        digits = sum(map(str.isdigit, text))
        for d in self.detectors:
            if digits < d.min_digits:
                continue
            spans = d(text, self.languages)
            if spans:
                hits.append(Hit(d.kind, d.label, tuple(spans)))
        return hits


KINDS: tuple[str, ...] = tuple(d.kind for d in Screen().detectors)


@functools.cache
def _default(languages: frozenset[str]) -> Screen:
    places = {c.label for name in SHIPPED for c in load_profile(name).counties}
    return Screen(languages, places)


def screen(text: str, languages: Iterable[str] = LANGUAGES) -> list[Hit]:
    """The personal data ``text`` seems to hold, by kind, with where each was found (the
    shipped profiles' county names count as places). Validation uses a profile's
    own :class:`Screen` (its note languages and counties)."""
    return _default(frozenset(languages))(text)
