"""The domain model: one :class:`Activity` is one entry by one consultant.

Converters accept the loose forms embedding software has at hand (ISO date strings, numeric
strings, lists, dicts) and raise :class:`ValidationError` naming the field when a value cannot
be read at all. Rules that need the profile live in ``_validate``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from ._errors import Problem, ValidationError

T = TypeVar("T")
#: the white space trimmed around a code, number, date or yes/no; any other (NEL, no-break
#: space …) stays, and the value is refused
SPACE = " \t\r\n"


def _bad(field: str, message: str, code: str = "type") -> ValidationError:
    return ValidationError([Problem(field, code, message)])


def _optional(conv: Callable[[str, Any], T]) -> Callable[[str, Any], T | None]:
    def convert(field: str, value: Any) -> T | None:
        if value is None or (isinstance(value, str) and value.strip(SPACE) == ""):
            return None
        return conv(field, value)

    return convert


#: the longest text read as a number (a count or hours); longer is refused before parsing, so
#: a hostile value never reaches ``int()``'s digit limit or costs a long parse
NUMBER_MAX_CHARS = 40


_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _ascii_digits(field: str, text: str) -> None:
    """Only ASCII digits are digits here: ``int("²")`` fails and ``Decimal("٣")`` is 3, so
    superscripts, circled and Arabic-Indic digits are refused alike, with one message."""
    if not text.isascii():
        raise _bad(field, "must be written with the digits 0-9 only", "digits")


def to_uuid(field: str, value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and value.isascii() and len(value) <= 45:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _bad(field, "must be a UUID such as 2f1c8a8e-…; generate one with uuid.uuid4()")


def to_text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(field, f"must be text, not {type(value).__name__}")
    return value


def to_code(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(field, f"must be a code (text), not {type(value).__name__}")
    return value.strip(SPACE)


def to_date(field: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.isascii() and len(value) <= 32:
        try:
            return dt.date.fromisoformat(value.strip(SPACE))
        except ValueError:
            pass
    raise _bad(field, "must be a date in the form YYYY-MM-DD", "date")


def to_decimal(field: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _bad(field, "must be a number of hours, not true/false")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)  # exact, whatever its size (str() would hit the digit limit)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip(SPACE)
        _ascii_digits(field, text)
        if len(text) > NUMBER_MAX_CHARS:
            raise _bad(field, f"must be a number of at most {NUMBER_MAX_CHARS} characters")
        if not _PLAIN_NUMBER.fullmatch(text):  # no 1_0, NaN or Infinity, which Decimal reads
            raise _bad(field, "must be a number such as 1.5")
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise _bad(field, "must be a number such as 1.5") from None
    else:
        raise _bad(field, f"must be a number, not {type(value).__name__}")
    if not result.is_finite():
        raise _bad(field, "must be a finite number")
    return result


def to_int(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _bad(field, "must be a whole number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip(SPACE)
        _ascii_digits(field, text)
        if len(text) > NUMBER_MAX_CHARS:
            raise _bad(field, "is too large", "too_large")
        if text.lstrip("-").isdigit() and text.count("-") <= 1:
            return int(text)
    raise _bad(field, "must be a whole number")


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def to_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip(SPACE).lower() in _TRUE | _FALSE:
        return value.strip(SPACE).lower() in _TRUE
    raise _bad(field, "must be yes/no (true or false)")


def to_codes(field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip(SPACE)]
    if not isinstance(value, Iterable) or isinstance(value, Mapping | bytes):
        raise _bad(field, "must be a list of codes")
    out = []
    for v in value:
        out.append(to_code(field, v))
    # order is not meaningful; a canonical order keeps equal records equal
    return tuple(sorted(set(out)))


def to_referrals(field: str, value: Any) -> tuple[tuple[str, int], ...]:
    """Referrals as (resource type, count) pairs, from a mapping or pairs."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.items()
    elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = value
    else:
        raise _bad(field, "must map resource types to counts, e.g. {'housing': 1}")
    merged: dict[str, int] = {}
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise _bad(field, "must map resource types to counts, e.g. {'housing': 1}")
        code, count = to_code(field, item[0]), to_int(field, item[1])
        merged[code] = merged.get(code, 0) + count
    return tuple(sorted(merged.items()))


#: an extra field's name as a profile may declare it; any other is never echoed in a problem
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def extra_name(name: str) -> str:
    """The problem field for an extra field: ``extra.NAME``, or ``extra`` for a name that
    could be anything (control characters, megabytes)."""
    return f"extra.{name}" if _FIELD_NAME.fullmatch(name) else "extra"


def to_extra(field: str, value: Any) -> tuple[tuple[str, Any], ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple | list):
        pairs = list(value)
    else:
        raise _bad(field, "must be a mapping of the profile's extra fields")
    out = []
    for item in pairs:
        if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
            raise _bad(field, "must be a mapping of the profile's extra fields")
        v = item[1]
        if not (v is None or isinstance(v, str | int | float | bool)):
            raise _bad(extra_name(item[0]), "must be text, a number or yes/no")
        out.append((item[0], v))
    return tuple(sorted(out))


# field name -> converter; also the single list of Activity's fields in order
CONVERTERS: dict[str, Callable[[str, Any], Any]] = {
    "id": to_uuid,
    "consultant": to_text,
    "program": _optional(to_text),
    "date": to_date,
    "county": to_code,
    "setting": _optional(to_code),
    "kind": to_code,
    "consultation_type": _optional(to_code),
    "tier": _optional(to_code),
    "modality": _optional(to_code),
    "format": _optional(to_code),
    "methods": to_codes,
    "competencies": to_codes,
    "hours": _optional(to_decimal),
    "minutes": _optional(to_int),
    "children_benefiting": _optional(to_int),
    "staff_influenced": _optional(to_int),
    "families": _optional(to_int),
    "participants": _optional(to_int),
    "rated_worthwhile": _optional(to_int),
    "referrals": to_referrals,
    "recommended_consultation": _optional(to_bool),
    "language": _optional(to_code),
    "note": _optional(to_text),
    "extra": to_extra,
    "engagement": _optional(to_uuid),
}
#: The whole-number count fields of an activity (minutes, children benefiting, …).
COUNT_FIELDS: tuple[str, ...] = (
    "minutes",
    "children_benefiting",
    "staff_influenced",
    "families",
    "participants",
    "rated_worthwhile",
)
TEXT_FIELDS: tuple[str, ...] = ("consultant", "program", "note")


# Named, typed converters per field (so type checkers see each field's type).
def _c_id(v: Any) -> uuid.UUID:
    return CONVERTERS["id"]("id", v)  # type: ignore[no-any-return]


def _c_consultant(v: Any) -> str:
    return CONVERTERS["consultant"]("consultant", v)  # type: ignore[no-any-return]


def _c_program(v: Any) -> str | None:
    return CONVERTERS["program"]("program", v)  # type: ignore[no-any-return]


def _c_date(v: Any) -> dt.date:
    return CONVERTERS["date"]("date", v)  # type: ignore[no-any-return]


def _c_county(v: Any) -> str:
    return CONVERTERS["county"]("county", v)  # type: ignore[no-any-return]


def _c_setting(v: Any) -> str | None:
    return CONVERTERS["setting"]("setting", v)  # type: ignore[no-any-return]


def _c_kind(v: Any) -> str:
    return CONVERTERS["kind"]("kind", v)  # type: ignore[no-any-return]


def _c_consultation_type(v: Any) -> str | None:
    return CONVERTERS["consultation_type"]("consultation_type", v)  # type: ignore[no-any-return]


def _c_tier(v: Any) -> str | None:
    return CONVERTERS["tier"]("tier", v)  # type: ignore[no-any-return]


def _c_modality(v: Any) -> str | None:
    return CONVERTERS["modality"]("modality", v)  # type: ignore[no-any-return]


def _c_format(v: Any) -> str | None:
    return CONVERTERS["format"]("format", v)  # type: ignore[no-any-return]


def _c_methods(v: Any) -> tuple[str, ...]:
    return CONVERTERS["methods"]("methods", v)  # type: ignore[no-any-return]


def _c_competencies(v: Any) -> tuple[str, ...]:
    return CONVERTERS["competencies"]("competencies", v)  # type: ignore[no-any-return]


def _c_hours(v: Any) -> Decimal | None:
    return CONVERTERS["hours"]("hours", v)  # type: ignore[no-any-return]


def _c_minutes(v: Any) -> int | None:
    return CONVERTERS["minutes"]("minutes", v)  # type: ignore[no-any-return]


def _c_children_benefiting(v: Any) -> int | None:
    return CONVERTERS["children_benefiting"]("children_benefiting", v)  # type: ignore[no-any-return]


def _c_staff_influenced(v: Any) -> int | None:
    return CONVERTERS["staff_influenced"]("staff_influenced", v)  # type: ignore[no-any-return]


def _c_families(v: Any) -> int | None:
    return CONVERTERS["families"]("families", v)  # type: ignore[no-any-return]


def _c_participants(v: Any) -> int | None:
    return CONVERTERS["participants"]("participants", v)  # type: ignore[no-any-return]


def _c_rated_worthwhile(v: Any) -> int | None:
    return CONVERTERS["rated_worthwhile"]("rated_worthwhile", v)  # type: ignore[no-any-return]


def _c_referrals(v: Any) -> tuple[tuple[str, int], ...]:
    return CONVERTERS["referrals"]("referrals", v)  # type: ignore[no-any-return]


def _c_recommended_consultation(v: Any) -> bool | None:
    return CONVERTERS["recommended_consultation"]("recommended_consultation", v)  # type: ignore[no-any-return]


def _c_language(v: Any) -> str | None:
    return CONVERTERS["language"]("language", v)  # type: ignore[no-any-return]


def _c_note(v: Any) -> str | None:
    return CONVERTERS["note"]("note", v)  # type: ignore[no-any-return]


def _c_extra(v: Any) -> tuple[tuple[str, Any], ...]:
    return CONVERTERS["extra"]("extra", v)  # type: ignore[no-any-return]


def _c_engagement(v: Any) -> uuid.UUID | None:
    return CONVERTERS["engagement"]("engagement", v)  # type: ignore[no-any-return]


@attrs.frozen(slots=True)
class Activity:
    """One entry by one consultant. Build one directly or with :meth:`from_dict`.

    ``referrals`` is stored as sorted (resource type, count) pairs and ``extra`` as sorted
    (field, value) pairs so that an Activity stays immutable and hashable; ``referral_counts``
    and ``extra_fields`` give them back as dicts.
    """

    consultant: str = attrs.field(converter=_c_consultant)
    date: dt.date = attrs.field(converter=_c_date)
    county: str = attrs.field(converter=_c_county)
    kind: str = attrs.field(converter=_c_kind)
    id: uuid.UUID = attrs.field(factory=uuid.uuid4, converter=_c_id)
    program: str | None = attrs.field(default=None, converter=_c_program)
    setting: str | None = attrs.field(default=None, converter=_c_setting)
    consultation_type: str | None = attrs.field(default=None, converter=_c_consultation_type)
    tier: str | None = attrs.field(default=None, converter=_c_tier)
    modality: str | None = attrs.field(default=None, converter=_c_modality)
    format: str | None = attrs.field(default=None, converter=_c_format)
    methods: tuple[str, ...] = attrs.field(default=(), converter=_c_methods)
    competencies: tuple[str, ...] = attrs.field(default=(), converter=_c_competencies)
    hours: Decimal | None = attrs.field(default=None, converter=_c_hours)
    minutes: int | None = attrs.field(default=None, converter=_c_minutes)
    children_benefiting: int | None = attrs.field(
        default=None,
        converter=_c_children_benefiting,
    )
    staff_influenced: int | None = attrs.field(default=None, converter=_c_staff_influenced)
    families: int | None = attrs.field(default=None, converter=_c_families)
    participants: int | None = attrs.field(default=None, converter=_c_participants)
    rated_worthwhile: int | None = attrs.field(default=None, converter=_c_rated_worthwhile)
    referrals: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_c_referrals)
    recommended_consultation: bool | None = attrs.field(
        default=None,
        converter=_c_recommended_consultation,
    )
    language: str | None = attrs.field(default=None, converter=_c_language)
    note: str | None = attrs.field(default=None, converter=_c_note, repr=False)
    extra: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_c_extra)
    #: the engagement this entry is part of (its dosage is summed from such entries)
    engagement: uuid.UUID | None = attrs.field(default=None, converter=_c_engagement)

    @property
    def referral_counts(self) -> dict[str, int]:
        return dict(self.referrals)

    @property
    def referral_total(self) -> int:
        return sum(c for _, c in self.referrals)

    @property
    def extra_fields(self) -> dict[str, Any]:
        return dict(self.extra)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Activity:
        """Build an Activity from a mapping, reporting every unreadable field at once.

        Unknown keys are problems too (a typo must not silently drop data). Raises
        :class:`ValidationError` and nothing else, whatever the input.
        """
        if not isinstance(data, Mapping):
            raise _bad("record", f"must be a mapping of field names, not {type(data).__name__}")
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for key in data:
            if not isinstance(key, str) or key not in CONVERTERS:
                name = key if isinstance(key, str) and key.isprintable() and key else repr(key)
                problems.append(
                    Problem(
                        name[:60],
                        "unknown_field",
                        "is not a field of Activity; remove it or put a state-specific field "
                        "under 'extra'",
                    )
                )
        for name, conv in CONVERTERS.items():
            if name not in data:
                continue
            try:
                values[name] = conv(name, data[name])
            except ValidationError as exc:
                problems.extend(exc.problems)
            except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
                # a converter's last line of defence: still one problem naming the field
                problems.append(Problem(name, "type", f"cannot be read ({type(exc).__name__})"))
        for name in ("consultant", "date", "county", "kind"):
            if data.get(name) in (None, "") and not any(p.field == name for p in problems):
                problems.append(Problem(name, "required", "is required"))
        if problems:
            raise ValidationError(problems)
        try:
            return cls(**values)
        except ValidationError:
            raise
        except Exception as exc:  # pragma: no cover - converters above cover every field
            raise _bad("record", f"cannot be read: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-friendly mapping (the inverse of :meth:`from_dict`); ``engagement``
        appears only when the entry is linked to one, so an unlinked entry's content hash is
        what it was before activities could be linked."""
        # field by field rather than by isinstance: this runs once per row of every import
        out: dict[str, Any] = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        out["id"] = str(self.id)
        out["date"] = self.date.isoformat()
        hours = self.hours
        # 1.50 and 1.5 are the same hours
        out["hours"] = None if hours is None else format(hours.normalize(), "f")
        out["methods"] = list(self.methods)
        out["competencies"] = list(self.competencies)
        out["referrals"] = dict(self.referrals)
        out["extra"] = dict(self.extra)
        if self.engagement is not None:
            out["engagement"] = str(self.engagement)
        return out

    def evolve(self, **changes: Any) -> Activity:
        """A copy with ``changes`` applied, each read as the constructor reads it:
        ``a.evolve(hours="2", note=None)``. The copy keeps the id and is neither validated
        against a profile nor stored: hand it to ``ConsultantView.amend`` to correct the stored
        activity, or give it a new id (``a.evolve(id=uuid.uuid4())``) to record a similar one.
        """
        return attrs.evolve(self, **changes)


_CONVERTED = frozenset(
    {"id", "date", "hours", "methods", "competencies", "referrals", "extra", "engagement"}
)
#: fields whose values are already plain (text, whole numbers, booleans or None)
_PLAIN_FIELDS: tuple[str, ...] = tuple(
    f.name for f in attrs.fields(Activity) if f.name not in _CONVERTED
)
