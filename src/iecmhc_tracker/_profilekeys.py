"""The shape of a profile's TOML: which keys each table may hold.

A key a profile's reader does not know is refused, never skipped: ``budget_epsilom = 3``
would otherwise leave the default budget in force without a word. The message names the
file, line and key, the nearest valid key ("did you mean …") and, for a key that belongs
to another table (``fiscal_year_start_month`` under ``[codes]``), the table it belongs in.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from ._engagement_codes import ENGAGEMENT_CODED_FIELDS
from ._errors import ProfileError
from ._model import COUNT_FIELDS
from ._privacypolicy import RETIRED_DP_KEYS
from ._tomltext import TomlReader, line_in_array

#: a table whose keys are names the profile chooses (codes, field names, measures)
ANY = "*"
#: a leaf value: a string, a number, a list of strings, an inline table read elsewhere
LEAF: dict[str, Any] = {}

#: Coded fields of :class:`Activity` whose codes a profile lists (field -> TOML key).
CODED_FIELDS: tuple[str, ...] = (
    "kind",
    "setting",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "methods",
    "competencies",
    "resource_type",
    "language",
    *ENGAGEMENT_CODED_FIELDS,  # engagements' and requests' codes
)
#: the counts a profile may set a per-entry limit for (``[limits]``)
LIMITED: tuple[str, ...] = (*COUNT_FIELDS, "referrals")

_CODE_ENTRY = {"code": LEAF, "label": LEAF}
#: the keys of each table; a list holds the shape of each entry of an array of tables
SHAPE: dict[str, Any] = {
    "profile": {
        "name": LEAF,
        "label": LEAF,
        "version": LEAF,
        "fiscal_year_start_month": LEAF,
        "start_date": LEAF,
        "languages": LEAF,
    },
    "codes": {f: [_CODE_ENTRY] for f in CODED_FIELDS},
    "regions": [_CODE_ENTRY],
    "counties": [{"code": LEAF, "label": LEAF, "region": LEAF}],
    "kinds": {ANY: {"required": LEAF, "forbidden": LEAF}},
    "fields": {
        ANY: {
            "type": LEAF,
            "label": LEAF,
            "codes": [_CODE_ENTRY],
            "max": LEAF,
            "kinds": LEAF,
        }
    },
    "limits": dict.fromkeys(LIMITED, LEAF),
    "tables": [
        {
            "name": LEAF,
            "title": LEAF,
            "measures": LEAF,
            "by": LEAF,
            "where": {ANY: LEAF},
            "tier": LEAF,
            "mode": LEAF,
            "epsilon": LEAF,
            "to_date": LEAF,
        }
    ],
    "privacy": {
        "suppression": {
            "min_consultants": LEAF,
            "min_count": LEAF,
            "dominance": LEAF,
            "protection": LEAF,
        },
        "dp": {
            "unit": LEAF,
            "lifetime_epsilon_per_fiscal_year": LEAF,
            "analyst_epsilon_per_fiscal_year": LEAF,
            "state_epsilon_per_fiscal_year": LEAF,
            "delta": LEAF,
            "default_epsilon": LEAF,
            "default_rho": LEAF,
            "max_cells": LEAF,
            "bounding": LEAF,
            "bounds": {ANY: LEAF},
            "norm_bounds": {ANY: LEAF},
            # refused with their own message, saying what replaced them
            **{old: LEAF for old in RETIRED_DP_KEYS},
        },
    },
}


def _named_keys(shape: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every fixed key of the shape, as (key, the table holding it)."""
    if isinstance(shape, list):
        yield from _named_keys(shape[0], path)
        return
    if not isinstance(shape, dict):
        return
    for key, sub in shape.items():
        if key == ANY:
            yield from _named_keys(sub, f"{path}.NAME" if path else "NAME")
            continue
        yield key, path
        yield from _named_keys(sub, f"{path}.{key}" if path else key)


_EVERY_KEY: tuple[tuple[str, str], ...] = tuple(_named_keys(SHAPE))


def check_keys(data: Mapping[str, Any], reader: TomlReader) -> None:
    """Refuse the first key of ``data`` that its table may not hold."""
    found = key_problems(data, reader)
    if found:
        raise found[0]


def key_problems(data: Mapping[str, Any], reader: TomlReader) -> list[ProfileError]:
    """Every key of ``data`` that its table may not hold, in the file's order."""
    found: list[ProfileError] = []
    _walk(data, SHAPE, "", reader, None, found)
    return found


#: where an entry of an array sits: the array's dotted name, the entry's index, the entry
Entry = tuple[str, int, Mapping[str, Any]]


def _walk(
    data: Mapping[str, Any],
    shape: Any,
    path: str,
    r: TomlReader,
    index: Entry | None,
    found: list[ProfileError],
) -> None:
    if not isinstance(shape, dict) or not shape or not isinstance(data, Mapping):
        return
    for key, value in data.items():
        dotted = f"{path}.{key}" if path else key
        if key in shape:
            sub = shape[key]
        elif ANY in shape:
            sub = shape[ANY]
        else:
            found.append(_unknown(key, shape, path, dotted, r, index))
            continue
        if isinstance(sub, list) and isinstance(value, list):
            for i, entry in enumerate(value):
                if isinstance(entry, Mapping):
                    _walk(entry, sub[0], dotted, r, (dotted, i, entry), found)
        else:
            _walk(value, sub, dotted, r, index, found)


def _unknown(
    key: str,
    shape: dict[str, Any],
    path: str,
    dotted: str,
    r: TomlReader,
    index: Entry | None,
) -> ProfileError:
    valid = [k for k in shape if k != ANY and k not in RETIRED_DP_KEYS]
    table = f"[{path}]" if path else "the top level"
    message = f"is not a key of {table}"
    near = difflib.get_close_matches(key, [k for k in shape if k != ANY], n=1, cutoff=0.7)
    if near and near[0] in RETIRED_DP_KEYS:
        # the nearest key is one no longer read: say what replaced it
        message += f"; did you mean {near[0]}? It is no longer read: {RETIRED_DP_KEYS[near[0]]}"
    elif near:
        message += f"; did you mean {near[0]}?"
    else:
        home = _home(key, path)
        if home is not None:
            name, where = home
            message += (
                f"; {name} belongs under [{where}]" if where else f"; {name} is a top-level key"
            )
        message += f" (the keys of {table}: {', '.join(valid)})"
    if index is not None:
        array, i, entry = index
        if array == path and line_in_array(r.lines, array, i, key) is not None:
            return r.fail_in_array(array, i)(key, message)  # an [[array]] table
        code = entry.get("code")
        if isinstance(code, str):  # an entry { code = …, … } of an inline array
            return r.fail_entry(dotted, code, message)
    return r.fail_at(dotted, message)


def _home(key: str, path: str) -> tuple[str, str] | None:
    """The key of another table that ``key`` is, or is a near miss of, and that table."""
    for name, table in _EVERY_KEY:
        if name == key and table != path:
            return name, table
    best: tuple[float, str, str] | None = None
    for name, table in _EVERY_KEY:
        ratio = difflib.SequenceMatcher(None, key, name).ratio()
        if table != path and ratio >= 0.8 and (best is None or ratio > best[0]):
            best = (ratio, name, table)
    return None if best is None else (best[1], best[2])
