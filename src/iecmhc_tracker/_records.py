"""What engagements and requests share: reading one from a mapping, every problem at once.

An :class:`~iecmhc_tracker.Activity` reads itself (its import path is tuned); the other record
types name their converters and required fields and let :func:`from_mapping` do the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._errors import Problem, ValidationError
from ._model import to_code, to_codes, to_date, to_int, to_text, to_uuid

T = TypeVar("T")
Converter = Callable[[str, Any], Any]


UUID, TEXT, CODE, CODES, DATE, INT = to_uuid, to_text, to_code, to_codes, to_date, to_int


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip(" \t\r\n") == "")


def OPT_UUID(field: str, value: Any) -> uuid.UUID | None:
    return None if _empty(value) else to_uuid(field, value)


def OPT_TEXT(field: str, value: Any) -> str | None:
    return None if _empty(value) else to_text(field, value)


def OPT_CODE(field: str, value: Any) -> str | None:
    return None if _empty(value) else to_code(field, value)


def OPT_DATE(field: str, value: Any) -> dt.date | None:
    return None if _empty(value) else to_date(field, value)


def OPT_INT(field: str, value: Any) -> int | None:
    return None if _empty(value) else to_int(field, value)


# the converters of the fields every record type has, named and typed (the attrs plugin of
# type checkers reads only those)
def c_id(v: Any) -> uuid.UUID:
    return UUID("id", v)


def c_county(v: Any) -> str:
    return CODE("county", v)


def c_program(v: Any) -> str | None:
    return OPT_TEXT("program", v)


def c_setting(v: Any) -> str | None:
    return OPT_CODE("setting", v)


def from_mapping(
    cls: Callable[..., T],
    label: str,
    converters: Mapping[str, Converter],
    required: tuple[str, ...],
    data: Any,
) -> T:
    """``cls(**converted)`` from ``data``, or :class:`ValidationError` with every unreadable,
    unknown (``"type"`` aside, which names the record type) or missing field."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            [
                Problem(
                    "record", "type", f"must be a mapping of field names, not {type(data).__name__}"
                )
            ]
        )
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key in data:
        if key == "type":
            continue
        if not isinstance(key, str) or key not in converters:
            name = key if isinstance(key, str) and key.isprintable() and key else repr(key)
            problems.append(Problem(name[:60], "unknown_field", f"is not a field of {label}"))
    for name, conv in converters.items():
        if name not in data:
            continue
        try:
            values[name] = conv(name, data[name])
        except ValidationError as exc:
            problems.extend(exc.problems)
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            problems.append(Problem(name, "type", f"cannot be read ({type(exc).__name__})"))
    for name in required:
        if data.get(name) in (None, "") and not any(p.field == name for p in problems):
            problems.append(Problem(name, "required", "is required"))
    if problems:
        raise ValidationError(problems)
    return cls(**values)


def iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()
