"""Small helpers for reading a profile's TOML: where a key is, and what a number may be."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.\-\"' ]+?)\s*=")


def line_of_key(lines: Sequence[str], dotted: str) -> int | None:
    """The 1-based line that sets ``dotted`` (``privacy.dp.bounds.hours``) inside its own
    table, not wherever its last name first appears; ``None`` when no line sets it."""
    table = ""
    for i, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0]
        m = _HEADER.match(line)
        if m:
            table = m.group(1).replace(" ", "").replace('"', "")
            continue
        m = _ASSIGN.match(line)
        if m:
            key = m.group(1).replace(" ", "").replace('"', "")
            if (f"{table}.{key}" if table else key) == dotted:
                return i
    return None


def plain_number(value: Any, *, positive: bool = False) -> bool:
    """A finite int or float, >= 0 and not -0.0 (> 0 with ``positive``); never a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value) or math.copysign(1.0, value) < 0:
        return False
    return value > 0 if positive else True


def line_in_array(lines: Sequence[str], array: str, index: int, key: str) -> int | None:
    """The 1-based line that sets ``key`` inside the ``index``-th (0-based) ``[[array]]``
    table; the line of that table's header when no line inside it sets the key, ``None``
    when there is no such table."""
    seen = -1
    header: int | None = None
    for i, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0]
        m = _HEADER.match(line)
        if m:
            if header is not None:
                break  # the wanted table has ended
            if line.strip().startswith("[[") and m.group(1).replace(" ", "") == array:
                seen += 1
                if seen == index:
                    header = i
            continue
        if header is not None:
            m = _ASSIGN.match(line)
            if m and m.group(1).replace(" ", "").replace('"', "") == key:
                return i
    return header
