"""A profile's published state tables (``[[tables]]``): what each counts and how it is released.

``mode = "suppression"`` (the default) releases exact numbers with small cells withheld;
``mode = "dp"`` releases every cell with differential-privacy noise and withholds nothing,
charged ``epsilon`` (a key of the table) on the state's account per fiscal year of data.
A ``dp`` table by fiscal year may say ``to_date = true``: it then counts the current fiscal
year to date beside the same months of the year before (``_todate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._codematch import listing
from ._columns import BASE_DIMENSIONS
from ._errors import ProfileError
from ._measures import FACT_KIND_OF, MEASURES
from ._tomltext import plain_number

#: dimensions whose values are numbers, not a profile's codes
UNCODED: frozenset[str] = frozenset({"fiscal_year", "quarter"})
#: how a state table may be released
TABLE_MODES: tuple[str, ...] = ("suppression", "dp")


@attrs.frozen(slots=True)
class TableSpec:
    """A state table the profile publishes (the only tables the state role can ask for)."""

    name: str
    title: str
    measures: tuple[str, ...]
    by: tuple[str, ...]
    where: Mapping[str, tuple[Any, ...]] = attrs.field(factory=dict, hash=False)
    tier: str | None = None
    #: ``"suppression"`` (exact numbers, small cells withheld) or ``"dp"`` (noise on every cell)
    mode: str = "suppression"
    #: a ``dp`` table's ε, charged on every fiscal year of data it reads at each new release
    epsilon: float | None = None
    #: the current fiscal year to date beside the same months of the year before (``_todate``)
    to_date: bool = False


#: (key, message) -> ProfileError: locates ``key`` in the table being read
Fail = Callable[[str, str], ProfileError]


def parse_tables(
    raw: Any,
    extras: Mapping[str, set[str]],
    fail: Callable[[str, str, str | None, int], ProfileError],
    fail_in: Callable[[int], Fail],
    known: Mapping[str, set[str]] | None = None,
) -> tuple[TableSpec, ...]:
    """The profile's ``[[tables]]``. ``extras``: the coded and yes/no extra fields a table may
    filter on, with their codes (none for yes/no); ``known``: the codes of each coded
    dimension (a table may neither group by a dimension without codes nor filter on a code
    that is not one); ``fail(key, message, needle, nth)`` locates a fault by a word of the
    file, ``fail_in(i)`` by a key of the ``i``-th table."""
    if not isinstance(raw, list):
        raise fail("tables", "must be an array of tables ([[tables]])", None, 1)
    codes = known or {}
    dims = set(BASE_DIMENSIONS)
    out: list[TableSpec] = []
    names: set[str] = set()
    for i, t in enumerate(raw):
        at = fail_in(i)
        name = t.get("name")
        if not isinstance(name, str) or not name:
            raise at("name", "must be a non-empty string")
        if name in names:
            raise at("name", f"duplicate table {name!r}")
        names.add(name)
        measures = tuple(t.get("measures", ()))
        by = tuple(t.get("by", ()))
        for m in measures:
            if m not in MEASURES:
                raise at("measures", f"unknown measure {m!r}; measures: {', '.join(MEASURES)}")
        if not measures:
            raise at("measures", f"table {name!r} needs a measure")
        for d in by:
            if d not in dims:
                raise at("by", f"unknown dimension {d!r}; dimensions: {', '.join(BASE_DIMENSIONS)}")
            if known is not None and d not in UNCODED and not codes.get(d):
                raise at(
                    "by",
                    f"groups by {d!r}, but the profile lists no {d} codes; list them under "
                    f"[codes] {d} = [...] or group by another dimension",
                )
        where: dict[str, tuple[Any, ...]] = {}
        raw_where = t.get("where", {})
        if not isinstance(raw_where, Mapping):
            raise at("where", 'must be a table, e.g. where = { kind = ["consultation"] }')
        for k, v in raw_where.items():
            if k not in dims and k not in extras:
                filterable = ", ".join([*BASE_DIMENSIONS, *extras])
                raise at("where", f"unknown dimension {k!r}; a table may filter on: {filterable}")
            values = tuple(v) if isinstance(v, list) else (v,)
            allowed = extras[k] if k in extras else codes.get(k)
            if known is not None and k not in UNCODED and allowed is not None:
                if k in extras and not allowed:
                    bad = [x for x in values if not isinstance(x, bool)]
                    shown = "true or false"
                else:
                    bad = [x for x in values if x not in allowed]
                    shown = listing(sorted(allowed), k) or f"none (the profile lists no {k} codes)"
                if bad:
                    raise at(
                        "where",
                        f"filters {k} on {bad[0]!r}, which is not a {k} code; "
                        f"the {k} codes: {shown}",
                    )
            # extra fields are filtered through the row's tags
            where[f"extra.{k}" if k in extras else k] = values
        kinds = {FACT_KIND_OF.get(m) for m in measures if not MEASURES[m].distinct_units}
        if len(kinds) > 1:
            raise at(
                "measures",
                "engagement, child outcome, follow-up and request measures each need a table "
                "of their own, apart from activity measures (a table's records are what it "
                "counts: engagements, children or requests)",
            )
        facts = bool(kinds) and None not in kinds
        if facts:  # a table of fact rows reads that kind of them only
            where["kind"] = (kinds.pop(),)
        mode, epsilon = _mode(t, at)
        if DISTINCT_PROGRAMS in measures:
            _check_programs(name, by, measures, where, mode, facts, out, at)
        todate = _to_date(t, at, mode, by, where)
        out.append(
            TableSpec(
                name,
                str(t.get("title", name)),
                measures,
                by,
                where,
                t.get("tier"),
                mode,
                epsilon,
                todate,
            )
        )
    return tuple(out)


def where_key(where: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A table's filters in one comparable order (values as text, sorted), whatever order
    and types the profile or a recorded release gave them in."""
    return tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in where.items()))


#: the distinct count of programs, published under the rules of ``_check_programs``
DISTINCT_PROGRAMS = "programs"


def _check_programs(
    name: str,
    by: tuple[str, ...],
    measures: tuple[str, ...],
    where: Mapping[str, tuple[Any, ...]],
    mode: str,
    facts: bool,
    earlier: list[TableSpec],
    at: Fail,
) -> None:
    """Where a count of programs may be published. A program sits in one county and one
    region, so its counts nearly add up over places: a withheld county's programs would be
    the year's total less the published counties'. Distinct counts over overlapping sets of
    activities bound each other too (all kinds' programs ≤ consultation's + training's), so
    every table publishing programs counts the same activities, and is statewide per year.

    The table publishes its activities too: then the programs count sits in a cell whose
    count of the same activities the linear audit protects (a union of kinds is linked to
    each kind's tables), and "programs ≤ activities" says nothing the cell does not."""
    if by != ("fiscal_year",):
        raise at(
            "measures",
            f"table {name!r} publishes programs by {', '.join(by) or 'nothing'}; programs may "
            'be published only statewide per fiscal year (by = ["fiscal_year"]): counts of '
            "programs add up over places, so a withheld place's count would be the total less "
            "the published places'",
        )
    if mode != "suppression":
        raise at(
            "measures",
            f"table {name!r} publishes programs with mode = {mode!r}; programs are published "
            'with suppression only (mode = "suppression"): the state\'s DP tables count '
            "consultants as the privacy unit",
        )
    if facts:
        raise at(
            "measures",
            f"table {name!r} counts programs among engagement or request measures; programs "
            "count activities, so publish them in a table of activity measures",
        )
    if "activities" not in measures:
        raise at(
            "measures",
            f'table {name!r} publishes programs without their activities; add "activities" '
            'to its measures (measures = ["programs", "activities"]): a count of programs '
            "bounds the activities it counts, so those must be a published, protected cell "
            "of the same table",
        )
    places = sorted(k for k in where if k != "kind")
    if places:
        raise at(
            "where",
            f"table {name!r} publishes programs filtered on {', '.join(places)}; programs are "
            "published statewide only, so their table may filter on kind alone (a place's "
            "count of programs would add up with the others', and would read as the state's)",
        )
    for other in earlier:
        if DISTINCT_PROGRAMS in other.measures and dict(other.where) != dict(where):
            raise at(
                "measures",
                f"table {name!r} counts programs of other activities than table "
                f"{other.name!r} (where differs); every table publishing programs must count "
                "the same activities, since a count of programs over some activities bounds "
                "the count over others (give both tables the same where, or drop programs "
                "from one)",
            )


def _to_date(
    t: Mapping[str, Any],
    at: Fail,
    mode: str,
    by: tuple[str, ...],
    where: Mapping[str, tuple[Any, ...]],
) -> bool:
    """``to_date = true``: the table counts the current fiscal year to date and the same
    months of the year before. It must be a DP table by fiscal year."""
    todate = t.get("to_date", False)
    if not isinstance(todate, bool):
        raise at("to_date", f"must be true or false, not {todate!r}")
    if not todate:
        return False
    if mode != "dp":
        raise at(
            "to_date",
            'a to-date table must have mode = "dp" (and its epsilon): it is released again '
            "each month, and only the noise of a DP release keeps the months it adds private; "
            'add mode = "dp" and epsilon = 0.2, say',
        )
    if "fiscal_year" not in by:
        raise at(
            "to_date",
            "a to-date table compares fiscal years, so its by must include fiscal_year, "
            'e.g. by = ["fiscal_year"]',
        )
    if "fiscal_year" in where or "quarter" in by or "quarter" in where:
        raise at(
            "to_date",
            "a to-date table chooses its own fiscal years and months; "
            "leave fiscal_year and quarter out of its where, and quarter out of its by",
        )
    return True


def _mode(t: Mapping[str, Any], at: Fail) -> tuple[str, float | None]:
    mode = t.get("mode", "suppression")
    if mode not in TABLE_MODES:
        raise at("mode", f"must be one of {', '.join(TABLE_MODES)}, not {mode!r}")
    epsilon = t.get("epsilon")
    if mode == "suppression":
        if epsilon is not None:
            raise at("epsilon", 'is read only for a table with mode = "dp"')
        return mode, None
    if epsilon is None:
        raise at("epsilon", 'a table with mode = "dp" must say its epsilon, e.g. epsilon = 0.5')
    if not plain_number(epsilon, positive=True):
        raise at("epsilon", f"must be a positive finite number, not {epsilon!r}")
    return mode, float(epsilon)
