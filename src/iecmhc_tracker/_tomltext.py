"""Reading a profile's TOML: where a key is, what a number may be, and a reader that names
the file, line and key of every fault."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._errors import ProfileError

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


class TomlReader:
    """Reads values out of a parsed TOML file, locating every fault in its text: each
    ``fail…`` returns the :class:`ProfileError` to raise, naming file, line and key."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.source = source

    def fail(self, key: str, message: str, needle: str | None = None, nth: int = 1) -> ProfileError:
        """A fault at ``key``, on the ``nth`` line holding ``needle`` (default: the key's last
        name) as a word."""
        line = self.line_of(needle if needle is not None else key.rsplit(".", 1)[-1], nth)
        at = f", line {line}" if line else ""
        return ProfileError(f"{self.source}{at}, key {key!r}: {message}")

    def line_of(self, needle: str, nth: int = 1) -> int | None:
        seen = 0
        pattern = re.compile(r"(?<![\w-])" + re.escape(needle) + r"(?![\w-])")
        for i, line in enumerate(self.lines, 1):
            if pattern.search(line.split("#", 1)[0]):
                seen += 1
                if seen == nth:
                    return i
        return None

    def fail_at(self, dotted: str, message: str) -> ProfileError:
        """A fault at the key ``dotted`` (``privacy.dp.bounds.hours``): the line is found
        inside the key's own table, not wherever its last name first appears."""
        line = line_of_key(self.lines, dotted)
        if line is None:
            return self.fail(dotted, message)
        return ProfileError(f"{self.source}, line {line}, key {dotted!r}: {message}")

    def fail_in_array(self, array: str, index: int) -> Callable[[str, str], ProfileError]:
        """Faults at a key of the ``index``-th ``[[array]]`` (its line, else its header's)."""

        def at(key: str, message: str) -> ProfileError:
            line = line_in_array(self.lines, array, index, key)
            where = f", line {line}" if line else ""
            return ProfileError(f"{self.source}{where}, key '{array}.{key}': {message}")

        return at

    def fail_entry(self, key: str, code: str, message: str, nth: int = 1) -> ProfileError:
        """A fault at the entry of the array ``key`` whose code is ``code``: the entry's line
        (``{ code = "cook", … }``), not the line the array starts on."""
        pattern = re.compile(r"""code\s*=\s*["']""" + re.escape(code) + r"""["']""")
        # from the line the array starts on: another list may hold the same code
        start = line_of_key(self.lines, key) or 1
        seen = 0
        for i, line in enumerate(self.lines[start - 1 :], start):
            if pattern.search(line.split("#", 1)[0]):
                seen += 1
                if seen == nth:
                    return ProfileError(f"{self.source}, line {i}, key {key!r}: {message}")
        return self.fail(key, message, needle=code, nth=nth)

    # small typed getters -----------------------------------------------------------------
    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail_at(f"{path}{key}", "must be a table")
        return value

    def string(
        self, data: Mapping[str, Any], key: str, path: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail_at(f"{path}{key}", "must be a non-empty string")
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        default: float,
        *,
        positive: bool = False,
    ) -> float:
        """A finite number >= 0 (> 0 with ``positive``): NaN, ±inf, negatives and -0.0 are
        refused, naming the file, the key and its line."""
        value = data.get(key, default)
        if not plain_number(value, positive=positive):
            want = "a positive" if positive else "a non-negative"
            raise self.fail_at(f"{path}{key}", f"must be {want} finite number, not {value!r}")
        return float(value)

    def whole(self, data: Mapping[str, Any], key: str, path: str, default: int) -> int:
        """A whole number >= 0 (a float with a fraction, NaN or inf is refused)."""
        value = self.number(data, key, path, default)
        if not value.is_integer():
            raise self.fail_at(f"{path}{key}", f"must be a whole number, not {value!r}")
        return int(value)
