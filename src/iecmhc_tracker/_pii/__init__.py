"""Screening of free-text notes for personal data.

The tracker asks for no personally identifying data; a consultant's reflective note is the one
place it could slip in. The screen is a set of small detectors, one per kind of data, each a
named callable that returns the character spans it finds. A hit is reported by kind and span
only, never echoing what matched.

Detectors build on maintained tools where they exist: phone numbers are confirmed by
``phonenumbers`` (Google's libphonenumber); names are looked up in a gazetteer of US first
names (Social Security Administration baby-name counts) and surnames (US Census 1990), both
public domain and shipped in ``data/``, and are taken as names only in a context that says so
(a title, a kinship or role word, a possessive, "named", a first name with a surname). Cue
words come in the languages a profile lists (English and Spanish today).
"""

from .base import LANGUAGES, Detector, Hit, Span
from .names import first_names, popular_first_names, surnames
from .screen import KINDS, Screen, screen

__all__ = [
    "KINDS",
    "LANGUAGES",
    "Detector",
    "Hit",
    "Screen",
    "Span",
    "first_names",
    "popular_first_names",
    "screen",
    "surnames",
]
