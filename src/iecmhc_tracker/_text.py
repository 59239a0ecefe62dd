"""What text the library takes: the characters refused in any text, and the shape of an id.

Every free text (a note, an extra field of type ``text``) and every id goes through here, so
the library, ``iecmhc record``, ``iecmhc import`` and the REST service refuse the same things
with the same words. Problems name the field and say what kind of thing is wrong and where;
they never echo the text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from ._errors import Problem
from ._pii import first_names, popular_first_names, surnames

#: a pseudonymous id: 1-64 letters, digits or . _ : - , starting with a letter or digit
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

#: control characters (C0 and C1, DEL), the byte-order mark and lone surrogates; a tab and a
#: line break (LF, or CR LF) are the only control characters text may hold
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ud800-\udfff]|\r(?!\n)")
_BAD_KIND = {"\ufeff": "a byte-order mark (U+FEFF)"}

#: a calendar date written inside an id: 2021-03-14, 20210314, 03.14.2021, 14_03_2021
_DATE_IN_ID = re.compile(
    r"(?<![0-9])(?:(?:19|20)[0-9]{2}([-._]?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0?[1-9]|[12][0-9]|3[01])([-._])(?:0?[1-9]|[12][0-9]|3[01])\2(?:19|20)[0-9]{2})"
    r"(?![0-9])"
)
_TOKENS = re.compile(r"[A-Za-z]+")


def refused_characters(field: str, text: str) -> Iterator[Problem]:
    """One problem if ``text`` holds a character no text may hold, saying which and where."""
    if text.isascii() and text.isprintable():
        return  # the common case, at once
    found = _REFUSED.search(text)
    if found is None:
        return
    ch = found.group()[0]
    if "\ud800" <= ch <= "\udfff":
        yield Problem(
            field,
            "encoding",
            "must be UTF-8 text (it has a byte that is not UTF-8, or a lone surrogate, at "
            f"character {found.start() + 1})",
        )
        return
    what = _BAD_KIND.get(ch, f"a control character (U+{ord(ch):04X})")
    yield Problem(
        field,
        "control_character",
        f"must not contain {what} (at character {found.start() + 1}); only tabs and line "
        "breaks may appear in text",
    )


def pseudonym_problems(field: str, value: str) -> Iterator[Problem]:
    """The problems of an id: its pattern matched whole, and no date or name inside it."""
    if not ID_PATTERN.fullmatch(value):
        yield Problem(
            field,
            "pseudonym",
            "must be a pseudonymous id of 1–64 letters, digits or . _ : - (no spaces or line "
            "breaks), such as c-7f3a",
        )
        return
    why = identifying_shape(value)
    if why is not None:
        yield Problem(
            field,
            "identifying",
            f"looks like {why}; ids must be pseudonyms (such as c-7f3a) that identify nobody "
            "outside the tracker",
        )


def identifying_shape(value: str) -> str | None:
    """What makes an id that matches the pattern look identifying, or None.

    Two simple rules, easy to explain to whoever assigns ids: a calendar date anywhere in it
    (a birth date is the usual one), or a popular first name followed by a name (first or
    family) as the next word — ``Jayden.Smith``, ``maria_garcia``. Single words are allowed:
    ``c-grace`` is as likely a code as a name.
    """
    if _DATE_IN_ID.search(value):
        return "it holds a date"
    words = [w.lower() for w in _TOKENS.findall(value)]
    if len(words) < 2:
        return None
    popular, names, families = popular_first_names(), first_names(), surnames()
    for first, second in itertools.pairwise(words):
        if (
            len(first) > 2
            and len(second) > 1
            and first in popular
            and (second in families or second in names)
        ):
            return "a person's name"
    return None
