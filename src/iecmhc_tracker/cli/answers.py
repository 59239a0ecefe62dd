"""Typed answers: the forms people type dates, codes and lists in at the command line, read into
the values an activity takes, and shown back to them.

Shared by ``iecmhc record`` (the prompts) and ``iecmhc amend`` (its options).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .._profile import Profile

#: fields whose answer is a list of codes, typed comma-separated
LIST_FIELDS = ("methods", "competencies")
#: fields whose answer is one code of the profile's
CODED_FIELDS = (
    "county", "kind", "setting", "consultation_type", "tier", "modality", "format", "language",
)  # fmt: skip
#: the date forms read, besides ``today`` and ``yesterday`` (month before day, as in the US)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")
DATE_HELP = "type it as 12/01/2026 (month/day/year), 2026-12-01, today or yesterday"


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The date ``text`` names, or ``None`` when it is none of the forms read."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(word, form).date()
        except ValueError:
            continue
    return None


def spoken_date(day: dt.date) -> str:
    """A date as people say it: ``Tuesday 1 December 2026`` (no month/day ambiguity)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def choices(profile: Profile, field: str) -> list[tuple[str, str]]:
    """A coded field's (code, label) pairs in the profile's order."""
    return [(c.code, c.label) for c in profile.code_list(_coded(field))]


def match_code(profile: Profile, field: str, text: str) -> str:
    """The code ``text`` names — the code or its label, ignoring case and accents ("St Clair"
    is ``st_clair``) — or ``text`` as typed when it names none (validation then says so)."""
    typed = text.strip()
    return profile.matcher(_coded(field)).match(typed) or typed


def _coded(field: str) -> str:
    """The coded field an answer names codes of (referrals name resource types)."""
    return "resource_type" if field == "referrals" else field


def parse_answer(profile: Profile, field: str, text: str, today: dt.date) -> Any:
    """Typed text as the value the model reads: codes matched, lists split, referral pairs
    (``housing:2, food``) counted, dates in any form :func:`parse_date` reads (a date it
    cannot read is left as typed, for validation to refuse)."""
    text = text.strip()
    if field == "date":
        day = parse_date(text, today)
        return text if day is None else day
    if field in LIST_FIELDS:
        return [match_code(profile, field, v) for v in text.split(",") if v.strip()]
    if field == "referrals":
        pairs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            code, _, count = part.partition(":")
            pairs[match_code(profile, field, code)] = count.strip() or "1"
        return pairs
    if field in CODED_FIELDS or (field in profile.fields and choices(profile, field)):
        return match_code(profile, field, text)
    return text


def shown(profile: Profile, field: str, value: Any) -> str:
    """An answer as the review screen shows it: labels with their codes, dates spelled out."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, dt.date):
        return spoken_date(value)
    if field == "referrals" and isinstance(value, dict):
        return ", ".join(f"{profile.code_label('resource_type', k)}: {n}" for k, n in value.items())
    if isinstance(value, list):
        return ", ".join(profile.code_label(field, v) for v in value)
    if choices(profile, field):
        label = profile.code_label(field, str(value))
        return label if label == value else f"{label} ({value})"
    return str(value)
