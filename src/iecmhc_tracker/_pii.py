"""Screening of free-text notes for personal data.

The tracker asks for no personally identifying data; a consultant's reflective note is the one
place it could slip in. Each detector is a named pattern; a hit is reported by kind only, never
echoing what matched.
"""

from __future__ import annotations

import re

import attrs


@attrs.frozen(slots=True)
class Detector:
    kind: str
    label: str
    pattern: re.Pattern[str]


_STREET = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir"
)
_TITLES = r"mr|mrs|ms|miss|mx|dr|prof|doctor|officer|judge"
_RELATIONS = (
    r"child|kid|boy|girl|son|daughter|baby|infant|toddler|student|mother|father|mom|dad|"
    r"parent|grandmother|grandfather|grandma|grandpa|aunt|uncle|sibling|brother|sister|"
    r"teacher|provider|caregiver|staff member|family"
)

DETECTORS: tuple[Detector, ...] = (
    Detector(
        "email", "an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
    ),
    Detector(
        "ssn",
        "a social security number",
        re.compile(r"\b(?:ssn\b\W*)?\d{3}[- ]\d{2}[- ]\d{4}\b", re.IGNORECASE),
    ),
    Detector(
        "phone",
        "a phone number",
        re.compile(
            r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w/-])"
            r"|\b(?:phone|cell|tel|call|text)\b\W{0,3}(?:at\W{0,3})?\d{3}\W?\d{4}\b",
            re.IGNORECASE,
        ),
    ),
    Detector(
        "date_of_birth",
        "a date of birth",
        re.compile(
            r"\b(?:d\.?o\.?b\.?|date of birth|birth ?date|birthday|born(?: on| in)?)\b"
            r"\W{0,3}(?:is\W{1,3})?(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
            re.IGNORECASE,
        ),
    ),
    Detector(
        "address",
        "a street address",
        re.compile(
            r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))(?:\s+[A-Z][a-z]+)*"
            rf"\s+(?i:{_STREET})\b\.?"
            r"|\b(?i:p\.?\s?o\.?\s+box|apt\.?|apartment)\s*#?\s*\d+",
        ),
    ),
    Detector(
        "record_number",
        "a record or case number",
        re.compile(
            r"\b(?:case|record|file|chart|client|patient|member|student|medicaid|mrn|dcfs|id)"
            r"\s*(?:#|no\.?|num(?:ber)?|id)?\s*[:#]?\s*[A-Z]{0,3}-?\d[\d-]{3,}\b"
            r"|#\s?\d{5,}\b",
            re.IGNORECASE,
        ),
    ),
    Detector(
        "name",
        "a person's name",
        re.compile(
            rf"\b(?i:{_TITLES})\.?\s+[A-Z][a-zA-Z'-]+"
            rf"|\b(?i:{_RELATIONS})\s+(?i:named|called|name is|whose name is)\s+[A-Z][a-z]+",
        ),
    ),
)


# Each detector's pattern is tried only where a cheap necessary condition holds: every match
# of the pattern contains what the condition looks for, so where it is absent the pattern
# cannot match and the result is the same.
#  email: a literal "@" (no other character matches it, case-insensitively or not);
#  ssn, phone, address, record_number: every alternative has a \d;
#  name: every alternative ends in \s+[A-Z] (case-sensitive), so has \s followed by [A-Z];
#  date_of_birth: every alternative has o.b / ob (d.o.b, dob), "birth" or "born", in any case.
_DIGIT = re.compile(r"\d")
_SPACE_CAPITAL = re.compile(r"\s[A-Z]")


def _may_be_birth(text: str) -> bool:
    if not text.isascii():
        return True  # other scripts may case-fold onto these letters: let the pattern decide
    low = text.lower()
    return "ob" in low or "o.b" in low or "birth" in low or "born" in low


def screen(text: str) -> list[Detector]:
    """The detectors that fire on ``text`` (each at most once), in a fixed order."""
    digit = _DIGIT.search(text) is not None
    possible = {
        "email": "@" in text,
        "ssn": digit,
        "phone": digit,
        "address": digit,
        "record_number": digit,
        "name": _SPACE_CAPITAL.search(text) is not None,
        "date_of_birth": _may_be_birth(text),
    }
    return [d for d in DETECTORS if possible.get(d.kind, True) and d.pattern.search(text)]
