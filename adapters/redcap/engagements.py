"""REDCap ⇄ engagements and requests: two more instruments, ``iecmhc_engagement`` and
``iecmhc_request``, in the data dictionary a profile generates, and the reading of their raw
export rows into the typed records ``Tracker.record_many`` takes (``"type": "engagement"`` or
``"request"``). Coded fields are dropdowns or radios with numeric codes, reasons checkboxes,
dates ``date_ymd``. No variable holds a name, a child's identifier or free text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import iecmhc_tracker as it

from .variables import Variable, _choices

ENGAGEMENT_FORM = "iecmhc_engagement"
REQUEST_FORM = "iecmhc_request"

#: (variable, record field, REDCap type, label, code list or "") per instrument
_E: tuple[tuple[str, str, str, str, str], ...] = (
    ("e_id", "id", "text", "Engagement id (UUID)", ""),
    ("e_consultant", "consultant", "text", "Consultant (pseudonymous id)", ""),
    ("e_program", "program", "text", "Program or site (pseudonymous id)", ""),
    ("e_county", "county", "dropdown", "County", "county"),
    ("e_setting", "setting", "dropdown", "Setting", "setting"),
    ("e_target", "target", "radio", "Consultation with", "target"),
    ("e_opened", "opened", "date", "Opened", ""),
    ("e_closed", "closed", "date", "Closed", ""),
    ("e_referral_source", "referral_source", "dropdown", "Referred by", "referral_source"),
    ("e_reasons", "reasons", "checkbox", "Reasons for consultation", "reason"),
    ("e_goals_set", "goals_set", "integer", "Goals set (shared measures of success)", ""),
    ("e_goals_met", "goals_met", "integer", "Goals met", ""),
    ("e_closure_reason", "closure_reason", "dropdown", "Reason for closing", "closure_reason"),
    ("e_placement_close", "placement_at_close", "radio", "Child's placement at close", "placement"),
    ("e_follow_up", "follow_up", "date", "Follow-up date", ""),
    (
        "e_placement_follow_up",
        "placement_at_follow_up",
        "radio",
        "Child's placement at follow-up",
        "placement",
    ),
)
_R: tuple[tuple[str, str, str, str, str], ...] = (
    ("q_id", "id", "text", "Request id (UUID)", ""),
    ("q_received", "received", "date", "Received", ""),
    ("q_source", "source", "radio", "Request from", "request_source"),
    ("q_county", "county", "dropdown", "County", "county"),
    ("q_program", "program", "text", "Program or site (pseudonymous id)", ""),
    ("q_setting", "setting", "dropdown", "Setting", "setting"),
    ("q_target", "target", "radio", "Consultation with", "target"),
    ("q_assigned", "assigned", "date", "Assigned", ""),
    ("q_consultant", "consultant", "text", "Consultant at assignment (pseudonymous id)", ""),
    ("q_engagement", "engagement", "text", "Engagement it became (UUID)", ""),
    ("q_not_served", "not_served", "date", "Closed without service", ""),
    ("q_not_served_reason", "not_served_reason", "dropdown", "Why not served", "not_served_reason"),
)
_SPECS = {ENGAGEMENT_FORM: ("engagement", _E), REQUEST_FORM: ("request", _R)}
_CHILD_ONLY = {"e_placement_close", "e_follow_up", "e_placement_follow_up"}


def _codes(profile: it.Profile, field: str) -> tuple[Any, ...]:
    return profile.counties if field == "county" else tuple(profile.codes.get(field, ()))


def instrument_variables(profile: it.Profile) -> list[tuple[str, Variable]]:
    """(form, variable) of both instruments, in order."""
    out: list[tuple[str, Variable]] = []
    for form, (_, spec) in _SPECS.items():
        for name, field, kind, label, codes in spec:
            if codes and not _codes(profile, codes):
                continue  # the profile records no such codes (no settings, say)
            choices = _choices(_codes(profile, codes)) if codes else ()
            child = ""
            if name in _CHILD_ONLY:
                target = {c: raw for raw, c, _ in _choices(_codes(profile, "target"))}
                child = f"[e_target] = '{target['child_family']}'"
            out.append(
                (
                    form,
                    Variable(
                        name,
                        field,
                        "text" if kind in ("date", "integer") else kind,
                        label,
                        choices,
                        validation={"date": "date_ymd", "integer": "integer"}.get(kind, ""),
                        minimum="0" if kind == "integer" else "",
                        required=field in ("id", "consultant", "county", "target", "opened")
                        if form == ENGAGEMENT_FORM
                        else field in ("id", "received", "source", "county"),
                        branching=child,
                    ),
                )
            )
    return out


def read_rows(profile: it.Profile, rows: Iterable[Mapping[str, str]]) -> Iterator[dict[str, Any]]:
    """The engagements and requests of raw export rows (a row holding ``e_id`` is an
    engagement, ``q_id`` a request), as mappings naming their type; values are handed
    through for validation to judge."""
    by_form: dict[str, list[Variable]] = {}
    for form, v in instrument_variables(profile):
        by_form.setdefault(form, []).append(v)
    for row in rows:
        for form, (kind, _) in _SPECS.items():
            first = by_form[form][0].name
            if not (row.get(first) or "").strip():
                continue
            record: dict[str, Any] = {"type": kind}
            for v in by_form[form]:
                if v.type == "checkbox":
                    record[v.field] = [
                        code
                        for raw, code, _ in v.choices
                        if (row.get(f"{v.name}___{raw}") or "").strip() in ("1", "Checked")
                    ]
                    continue
                value = (row.get(v.name) or "").strip()
                if not value:
                    continue
                if v.choices:
                    codes = {raw: code for raw, code, _ in v.choices}
                    value = codes.get(value, value)
                record[v.field] = value
            yield record


def to_row(profile: it.Profile, record: it.Engagement | it.Request) -> dict[str, str]:
    """One raw export row of the record's instrument (every value a string)."""
    form = ENGAGEMENT_FORM if isinstance(record, it.Engagement) else REQUEST_FORM
    data = record.to_dict()
    row: dict[str, str] = {}
    for f, v in instrument_variables(profile):
        if f != form:
            continue
        value = data.get(v.field)
        if v.type == "checkbox":
            for raw, code, _ in v.choices:
                row[f"{v.name}___{raw}"] = "1" if code in (value or ()) else "0"
            continue
        if v.choices and value is not None:
            value = next(raw for raw, code, _ in v.choices if code == value)
        row[v.name] = "" if value is None else str(value)
    return row
