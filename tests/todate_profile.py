"""A test profile with a to-date DP table: Illinois' shipped text plus ``hours_to_date``
(consultation hours by fiscal year, ``to_date = true``) and a state allotment for it. No
shipped profile has such a table, so the tests of the feature run on this one."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import iecmhc_tracker as it

TABLE = "hours_to_date"
IL_TEXT = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text("utf-8")
TO_DATE_TABLE = """[[tables]]
name = "hours_to_date"
title = "Hours of consultation, fiscal year to date"
measures = ["hours"]
by = ["fiscal_year"]
where = { kind = ["consultation"] }
mode = "dp"
epsilon = 0.1
to_date = true
"""
#: released once a month on the current fiscal year and the one before: one fiscal year of
#: data carries at most 22 charges of 0.1
STATE_EPSILON = 2.2


def todate_text(table: str = TO_DATE_TABLE, **dp_values: object) -> str:
    """Illinois' text with ``table`` added before its first table, the state's allotment set
    to ``STATE_EPSILON`` and any other ``[privacy.dp]`` (or top-level) keys set."""
    start = IL_TEXT.index("[[tables]]")
    text = IL_TEXT[:start] + table + "\n" + IL_TEXT[start:]
    values: dict[str, object] = {"state_epsilon_per_fiscal_year": STATE_EPSILON, **dp_values}
    for key, value in values.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, key
    return text


def todate_path(tmp_path: Path, table: str = TO_DATE_TABLE, **values: object) -> Path:
    """``todate_text`` written to ``tmp_path``."""
    path = tmp_path / "illinois-to-date.toml"
    path.write_text(todate_text(table, **values), encoding="utf-8")
    return path


def todate_profile(tmp_path: Path, table: str = TO_DATE_TABLE, **values: object) -> it.Profile:
    """The test profile, loaded."""
    return it.load_profile(todate_path(tmp_path, table, **values))
