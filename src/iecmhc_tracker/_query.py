"""``Query``: what a state table or a DP release asks for, checked against the profile.

A query names measures, dimensions to group by, and filters. ``compile`` checks it and turns it
into the plain primitives a store takes (dimension columns, ``(column, kinds)`` measure pairs,
filters). Id-like fields (consultant, program, id, note) are never a dimension or a filter:
asking for them raises :class:`Forbidden`, since they would turn an aggregate back into rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._codematch import unknown_code
from ._errors import Forbidden, Problem, ValidationError
from ._measures import FACT_KINDS, MEASURES
from ._profile import Profile
from .stores import Cell, Filters, MeasureSpec
from .stores.contract import date_ranges

#: Fields that identify people or sites: never grouped on or filtered by in an aggregate.
ID_FIELDS: frozenset[str] = frozenset(
    {"id", "consultant", "program", "note", "extra", "tags", "content_hash", "date"}
)


def _tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _where(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen(slots=True)
class Query:
    """``Query(measures=["hours"], by=["county"], where={"fiscal_year": 2025})``.

    ``where`` maps a dimension (or ``extra.NAME`` for a profile's extra field) to one value
    or a list of values; ``date_from`` / ``date_to`` (ISO dates) bound the activity date, and
    ``date_in`` (``[[from, to], ...]``, inclusive ISO dates) keeps activities in any range.
    """

    measures: tuple[str, ...] = attrs.field(converter=_tuple)
    by: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    where: Mapping[str, Any] = attrs.field(factory=dict, converter=_where, hash=False)

    def key(self) -> str:
        """A canonical text form: equal queries, equal keys (for caches and ledgers)."""
        where = ";".join(
            f"{k}={','.join(sorted(str(v) for v in _values(w)))}"
            for k, w in sorted(self.where.items())
        )
        return f"m={','.join(self.measures)}|by={','.join(self.by)}|where={where}"


def _values(value: Any) -> list[Any]:
    if isinstance(value, str | int | bool) or value is None:
        return [value]
    return list(value)


@attrs.frozen(slots=True)
class CompiledQuery:
    """A checked query in the store's primitives."""

    query: Query
    dims: tuple[str, ...]
    measures: tuple[MeasureSpec, ...]
    filters: Filters = attrs.field(hash=False)


def compile_query(query: Query, profile: Profile) -> CompiledQuery:
    """Check ``query`` against ``profile``; raise ``Forbidden`` for id-like fields and
    ``ValidationError`` (every problem) for anything else unknown."""
    problems: list[Problem] = []
    # an "extra.NAME" filter asks for NAME (a coded extra field), not for the extra blob
    asked = set(query.by) | {
        k[len("extra.") :] if k.startswith("extra.") else k for k in query.where
    }
    leaked = sorted(asked & ID_FIELDS - {"date"} | ({"date"} & set(query.by)))
    if leaked:
        raise Forbidden(
            f"{', '.join(leaked)} identify people or sites and are never part of an aggregate; "
            "group by county, region, setting, type or fiscal year instead"
        )
    if not query.measures:
        problems.append(Problem("measures", "required", "name at least one measure"))
    for m in query.measures:
        if m not in MEASURES:
            problems.append(
                Problem(
                    "measures",
                    "unknown_measure",
                    f"unknown measure {m!r}; known: {', '.join(MEASURES)}",
                )
            )
    dims = profile.dimensions()
    extra_filterable = {n for n, f in profile.fields.items() if f.type in ("code", "bool")}
    for d in query.by:
        if d not in dims:
            problems.append(
                Problem(
                    "by",
                    "unknown_dimension",
                    f"cannot group by {d!r}; the {profile.label} profile offers: {', '.join(dims)}",
                )
            )
    if len(set(query.by)) != len(query.by):
        problems.append(Problem("by", "duplicate", "names a dimension twice"))
    if "resource_type" in query.by or "resource_type" in query.where:
        wrong = [m for m in query.measures if m not in ("referrals", "consultants")]
        if wrong:
            problems.append(
                Problem(
                    "measures",
                    "not_by_resource",
                    f"{', '.join(wrong)} cannot be split by referral resource type; "
                    "use the referrals measure",
                )
            )
    filters: dict[str, Any] = {}
    for key, value in query.where.items():
        if key in ("date_from", "date_to"):
            try:
                filters[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                problems.append(Problem(f"where.{key}", "date", "must be an ISO date YYYY-MM-DD"))
            continue
        if key == "date_in":
            try:
                filters[key] = [[lo.isoformat(), hi.isoformat()] for lo, hi in date_ranges(value)]
            except ValueError as exc:
                problems.append(Problem("where.date_in", "date", str(exc)))
            continue
        if key.startswith("extra."):
            name = key[len("extra.") :]
            if name not in extra_filterable:
                problems.append(
                    Problem(
                        f"where.{key}",
                        "unknown_field",
                        f"{name!r} is not a coded extra field of the profile",
                    )
                )
                continue
            spec = profile.fields[name]
            vals = [
                ("true" if v else "false") if isinstance(v, bool) else str(v)
                for v in _values(value)
            ]
            if spec.type == "code":
                vals = [_code(profile, name, v) for v in vals]
                bad = [v for v in vals if v not in profile.code_set(name)]
                if bad:
                    message = unknown_code(name, bad[0], profile.matcher(name))
                    problems.append(Problem(f"where.{key}", "unknown_code", message))
            filters[key] = vals
            continue
        if key not in dims:
            problems.append(
                Problem(f"where.{key}", "unknown_dimension", f"cannot filter on {key!r}")
            )
            continue
        vals = _values(value)
        if key in ("fiscal_year", "quarter"):
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
                problems.append(Problem(f"where.{key}", "type", "must be whole numbers"))
                continue
        else:
            allowed = profile.code_set(key)
            if key == "kind":  # the kind of engagements' and requests' fact rows
                allowed |= set(FACT_KINDS)
            vals = [v if v in allowed else _code(profile, key, v) for v in vals]
            bad = [str(v) for v in vals if v not in allowed]
            if bad:
                message = unknown_code(key, bad[0], profile.matcher(key))
                problems.append(Problem(f"where.{key}", "unknown_code", message))
                continue
        filters[key] = vals
    if problems:
        raise ValidationError(problems)
    specs = tuple(_spec(m) for m in query.measures)
    return CompiledQuery(query, tuple(query.by), specs, filters)


def _code(profile: Profile, field: str, value: Any) -> Any:
    """A filter's value as the profile spells the code ("Cook" is ``cook``)."""
    if isinstance(value, str) and value not in profile.code_set(field):
        return profile.matcher(field).match(value) or value
    return value


def _spec(name: str) -> MeasureSpec:
    m = MEASURES[name]
    if m.distinct_units:
        return ("#units", m.kinds)
    return (m.column or "*", m.kinds)


def public_keys(compiled: CompiledQuery, profile: Profile, years: Sequence[int]) -> list[Cell]:
    """Every cell of the query's dimensions known from public code lists alone.

    ``years`` lists the fiscal years there can be data of (the profile's start to today; used
    when grouping by ``fiscal_year``); filters narrow the lists, and a year outside ``years``
    is never a key. Only feasible combinations are keys: a county's region is public, so a
    county appears only beside its own region (and only under a ``region`` filter that holds
    it); a cell that cannot hold data is absent, never noised or charged. These keys need no
    partition selection: they are public, not learnt from data.
    """
    domains: list[list[Any]] = []
    for d in compiled.dims:
        if d == "fiscal_year":
            values: list[Any] = list(years)
        elif d == "quarter":
            values = [1, 2, 3, 4]
        else:
            values = sorted(profile.code_set(d))
        allowed = compiled.filters.get(d)
        if allowed is not None and not isinstance(allowed, str):
            values = [v for v in values if v in allowed]
        domains.append(values)
    cells = [tuple(cell) for cell in itertools.product(*domains)]
    return [c for c in cells if _feasible(c, compiled, profile)]


def _feasible(cell: Cell, compiled: CompiledQuery, profile: Profile) -> bool:
    """Whether a cell can hold data: its county (named or filtered) lies in its region."""
    dims, f = compiled.dims, compiled.filters

    def among(d: str) -> list[Any] | None:
        if d in dims:
            return [cell[dims.index(d)]]
        wanted = f.get(d)
        if wanted is None:
            return None
        return [wanted] if isinstance(wanted, str) else list(wanted)

    counties, regions = among("county"), among("region")
    if counties is None or regions is None:
        return True
    return any(profile.region_of(c) in regions for c in counties)
