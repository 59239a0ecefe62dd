"""Profiles: one TOML file per state with its code lists, counties, tables and privacy policy.
A profile is data, not code: a state adapts the model by writing one file. Loading checks the
whole file and raises :class:`ProfileError` naming the file, the line and the key at fault."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import attrs

from ._columns import BASE_DIMENSIONS
from ._engagement_codes import ENGAGEMENT_CODED_FIELDS, complete_codes
from ._errors import ProfileError
from ._measures import MEASURES
from ._model import CONVERTERS
from ._tablespec import TableSpec as TableSpec
from ._tablespec import parse_tables
from ._tomltext import line_in_array, line_of_key, plain_number

NOTE_LANGUAGES: tuple[str, ...] = ("en", "es")  #: the languages notes may be written in

_ACTIVITY_FIELDS: tuple[str, ...] = tuple(CONVERTERS)  # the fields kind rules may name
#: Coded fields whose codes a profile lists under ``[codes]`` (engagements' and requests' too)
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
    *ENGAGEMENT_CODED_FIELDS,
)
#: Types an extra (state-specific) field may have.
FIELD_TYPES: frozenset[str] = frozenset({"count", "bool", "code", "text", "hours", "minutes"})
#: Dimensions a query may group by, besides a profile's coded extra fields.
SHIPPED: tuple[str, ...] = ("illinois", "california", "montana")
T = TypeVar("T")
PRIVACY_UNITS: frozenset[str] = frozenset({"consultant", "program"})


@attrs.frozen(slots=True)
class Code:
    code: str
    label: str


@attrs.frozen(slots=True)
class County:
    code: str
    label: str
    region: str


@attrs.frozen(slots=True)
class KindSpec:
    """An activity kind and the fields an activity of that kind must carry."""

    code: str
    label: str
    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class FieldSpec:
    """A state-specific extra field (stored in ``Activity.extra``)."""

    name: str
    type: str
    label: str
    codes: tuple[Code, ...] = ()
    maximum: float | None = None
    kinds: tuple[str, ...] = ()


@attrs.frozen(slots=True)
class SuppressionPolicy:
    min_consultants: int = 3
    min_count: int = 11
    dominance: float = 0.8
    protection: float = 0.2


#: Keys a profile may no longer set, and what replaced them.
RETIRED_DP_KEYS: Mapping[str, str] = {
    "period": "budgets now belong to the fiscal years of data a release reads; set "
    "lifetime_epsilon_per_fiscal_year and analyst_epsilon_per_fiscal_year instead",
    "budget_epsilon": "replaced by analyst_epsilon_per_fiscal_year (each analyst's allotment "
    "per fiscal year of data) under lifetime_epsilon_per_fiscal_year (everyone's cap)",
    "budget_rho": "ρ releases are charged in ε at the profile's delta; set "
    "analyst_epsilon_per_fiscal_year instead",
}


@attrs.frozen(slots=True)
class DPPolicy:
    """Differential-privacy policy: the budget per fiscal year of data, defaults and bounds.

    Every fiscal year of data is one partition of the ledger. Over the life of the data,
    everyone together (every analyst and the state's DP tables) may spend at most
    ``lifetime_epsilon_per_fiscal_year`` on it; one analyst at most
    ``analyst_epsilon_per_fiscal_year`` of that, the state at most
    ``state_epsilon_per_fiscal_year``. ρ-zCDP releases are charged in ε at ``delta``.
    """

    unit: str = "consultant"
    lifetime_epsilon_per_fiscal_year: float = 4.0
    analyst_epsilon_per_fiscal_year: float = 2.0
    state_epsilon_per_fiscal_year: float = 0.0
    delta: float = 1e-6
    default_epsilon: float = 0.5
    default_rho: float = 0.05
    max_cells: int = 12
    bounding: str = "norm"
    #: per measure: the most one unit may add to one cell
    bounds: Mapping[str, float] = attrs.field(factory=dict, hash=False)
    #: per measure: the most one unit may add across all cells of a release (L1 norm)
    norm_bounds: Mapping[str, float] = attrs.field(factory=dict, hash=False)


class _Derived(dict[str, Any]):
    """Data derived from a profile on first use; a copy or an unpickled profile rebuilds it."""

    def __reduce__(self) -> tuple[type[_Derived], tuple[()]]:
        return (_Derived, ())

    def __deepcopy__(self, memo: dict[int, Any]) -> _Derived:
        return _Derived()


@attrs.frozen(slots=True)
class Profile:
    """A loaded, checked profile. Build it with :func:`load_profile`."""

    name: str
    label: str
    source: str
    fiscal_year_start_month: int
    start_date: dt.date
    codes: Mapping[str, tuple[Code, ...]] = attrs.field(hash=False)
    counties: tuple[County, ...]
    regions: tuple[Code, ...]
    kinds: Mapping[str, KindSpec] = attrs.field(hash=False)
    fields: Mapping[str, FieldSpec] = attrs.field(hash=False)
    tables: tuple[TableSpec, ...]
    suppression: SuppressionPolicy
    dp: DPPolicy
    max_counts: Mapping[str, int] = attrs.field(hash=False)
    #: the languages notes may be written in (``[profile] languages``): the note screen
    #: looks for personal data with the cue words of each
    languages: tuple[str, ...] = NOTE_LANGUAGES
    #: every field's codes as a set, built once: validation asks for them per record
    _code_sets: Mapping[str, frozenset[str]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _regions_of: Mapping[str, str] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _derived: _Derived = attrs.field(init=False, factory=_Derived, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        sets = {field: frozenset(c.code for c in codes) for field, codes in self.codes.items()}
        sets.update({n: frozenset(c.code for c in f.codes) for n, f in self.fields.items()})
        sets["county"] = frozenset(c.code for c in self.counties)
        sets["region"] = frozenset(r.code for r in self.regions)
        object.__setattr__(self, "_code_sets", sets)
        object.__setattr__(self, "_regions_of", {c.code: c.region for c in self.counties})

    def derived(self, key: str, build: Callable[[Profile], T]) -> T:
        """``build(self)``, computed on first use and kept with the profile.

        Validation and row building keep their per-profile precompiled lookups here; a
        profile is immutable, so what is derived from it never goes stale.
        """
        try:
            return self._derived[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._derived[key] = build(self)
            return value

    # -- lookups -------------------------------------------------------------------------
    def code_set(self, field: str) -> frozenset[str]:
        """The codes a field may take (empty when the profile does not record it)."""
        return self._code_sets.get(field, frozenset())

    def code_label(self, field: str, code: str) -> str:
        """The human label of a code (the code itself when it has none)."""
        if field == "county":
            pool: Sequence[Code | County] = self.counties
        elif field == "region":
            pool = self.regions
        elif field in self.fields:
            pool = self.fields[field].codes
        else:
            pool = self.codes.get(field, ())
        for c in pool:
            if c.code == code:
                return c.label
        return str(code)

    def region_of(self, county: str) -> str | None:
        return self._regions_of.get(county)

    def fiscal_year(self, day: dt.date) -> int:
        """Fiscal years are named by the calendar year they end in (FY2025 = Jul 2024–Jun 2025)."""
        if self.fiscal_year_start_month == 1:
            return day.year
        return day.year + 1 if day.month >= self.fiscal_year_start_month else day.year

    def fiscal_years(self, today: dt.date) -> tuple[int, ...]:
        """The fiscal years there can be data of: from the profile's start to today's."""
        return tuple(range(self.fiscal_year(self.start_date), self.fiscal_year(today) + 1))

    def last_complete_fiscal_year(self, today: dt.date) -> int:
        """The latest fiscal year that has ended by ``today`` (reports default to it)."""
        return self.fiscal_year(today) - 1

    def fiscal_quarter(self, day: dt.date) -> int:
        return ((day.month - self.fiscal_year_start_month) % 12) // 3 + 1

    def fiscal_year_bounds(self, fiscal_year: int) -> tuple[dt.date, dt.date]:
        """First and last day of a fiscal year."""
        m = self.fiscal_year_start_month
        start = dt.date(fiscal_year if m == 1 else fiscal_year - 1, m, 1)
        end_year, end_month = (start.year + 1, m) if m > 1 else (start.year + 1, 1)
        return start, dt.date(end_year, end_month, 1) - dt.timedelta(days=1)

    def table(self, name: str) -> TableSpec:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def dimensions(self) -> tuple[str, ...]:
        """What a query may group by (extra fields may only filter, as ``extra.NAME``)."""
        return BASE_DIMENSIONS


# -- loading ---------------------------------------------------------------------------------


def load_profile(name_or_path: str | Path = "illinois") -> Profile:
    """Load a shipped profile by name (``"illinois"``, ``"california"``, ``"montana"``) or a
    TOML file by path (:func:`profile_path` tells which). Raises :class:`ProfileError` naming
    file, line and key for any fault."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    text, source = _read(name_or_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    return _Builder(text, source).build(data)


def profile_path(name_or_path: str | Path) -> Path | None:
    """The one rule telling a profile's name from a path: ``None`` for the name of a shipped
    profile (:data:`SHIPPED`), else the path of the TOML file it names. A bare word that is
    neither shipped nor a file is then refused by :func:`load_profile` as an unknown name."""
    s = str(name_or_path)
    return None if s in SHIPPED else Path(s)


def _read(name_or_path: str | Path) -> tuple[str, str]:
    s = str(name_or_path)
    path = profile_path(s)
    if path is None:
        ref = resources.files("iecmhc_tracker") / "profiles" / f"{s}.toml"
        return ref.read_text(encoding="utf-8"), f"profiles/{s}.toml"
    if not path.suffix and not path.exists():
        raise ProfileError(
            f"unknown profile {s!r}: give one of {', '.join(SHIPPED)} or the path of a TOML file"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise ProfileError(f"cannot read profile {s!r}: {exc.strerror}") from None


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class _Builder:
    """Turns parsed TOML into a Profile, locating every fault in the source text."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.source = source

    def fail(self, key: str, message: str, needle: str | None = None, nth: int = 1) -> ProfileError:
        line = self._line_of(needle if needle is not None else key.rsplit(".", 1)[-1], nth)
        at = f", line {line}" if line else ""
        return ProfileError(f"{self.source}{at}, key {key!r}: {message}")

    def _line_of(self, needle: str, nth: int = 1) -> int | None:
        seen = 0
        pattern = re.compile(r"(?<![\w-])" + re.escape(needle) + r"(?![\w-])")
        for i, line in enumerate(self.lines, 1):
            if pattern.search(line.split("#", 1)[0]):
                seen += 1
                if seen == nth:
                    return i
        return None

    # small typed getters -------------------------------------------------------------
    def _table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(f"{path}{key}", "must be a table")
        return value

    def _str(self, data: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{path}{key}", "must be a non-empty string")
        return value

    def _num(
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

    def _int(self, data: Mapping[str, Any], key: str, path: str, default: int) -> int:
        """A whole number >= 0 (a float with a fraction, NaN or inf is refused)."""
        value = self._num(data, key, path, default)
        if not value.is_integer():
            raise self.fail_at(f"{path}{key}", f"must be a whole number, not {value!r}")
        return int(value)

    def fail_at(self, dotted: str, message: str) -> ProfileError:
        """A fault at the key ``dotted`` (``privacy.dp.bounds.hours``): the line is found
        inside the key's own table, not wherever its last name first appears."""
        line = line_of_key(self.lines, dotted)
        if line is None:
            return self.fail(dotted, message)
        return ProfileError(f"{self.source}, line {line}, key {dotted!r}: {message}")

    def _codes(self, raw: Any, key: str) -> tuple[Code, ...]:
        if not isinstance(raw, list):
            raise self.fail(key, "must be an array of { code = …, label = … } tables")
        out: list[Code] = []
        seen: set[str] = set()
        for entry in raw:
            if isinstance(entry, str):
                entry = {"code": entry, "label": entry.replace("_", " ").capitalize()}
            if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
                raise self.fail(key, f"entry {entry!r} needs a string 'code'")
            code = entry["code"]
            if not _SLUG.match(code):
                raise self.fail(
                    key, f"code {code!r} must be lowercase letters, digits and _", needle=code
                )
            if code in seen:
                raise self.fail(key, f"duplicate code {code!r}", needle=code, nth=2)
            seen.add(code)
            out.append(Code(code, str(entry.get("label", code))))
        return tuple(out)

    def build(self, data: Mapping[str, Any]) -> Profile:
        meta = self._table(data, "profile", "")
        name = self._str(meta, "name", "profile.")
        label = self._str(meta, "label", "profile.", default=name.title())
        month = meta.get("fiscal_year_start_month", 7)
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise self.fail(
                "profile.fiscal_year_start_month", f"must be a month number 1–12, not {month!r}"
            )
        start = meta.get("start_date", dt.date(2015, 1, 1))
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise self.fail("profile.start_date", "must be a TOML date like 2020-07-01")

        languages = meta.get("languages", list(NOTE_LANGUAGES))
        if (
            not isinstance(languages, list)
            or not languages
            or any(lang not in NOTE_LANGUAGES for lang in languages)
        ):
            raise self.fail(
                "profile.languages",
                f"must be a list of note languages from {', '.join(NOTE_LANGUAGES)}, "
                f"not {languages!r}",
            )

        raw_codes = self._table(data, "codes", "")
        codes: dict[str, tuple[Code, ...]] = {}
        for key, raw in raw_codes.items():
            if key not in CODED_FIELDS:
                raise self.fail(
                    f"codes.{key}",
                    f"unknown coded field; expected one of {', '.join(CODED_FIELDS)}",
                )
            codes[key] = self._codes(raw, f"codes.{key}")
        codes = complete_codes(codes, Code, self.fail)
        if not codes.get("kind"):
            raise self.fail("codes.kind", "a profile must list at least one activity kind")

        regions = self._codes(data.get("regions", []), "regions")
        region_set = {r.code for r in regions}
        counties: list[County] = []
        seen: set[str] = set()
        for entry in data.get("counties", []):
            if not isinstance(entry, Mapping):
                raise self.fail("counties", f"entry {entry!r} must be a table")
            code = entry.get("code")
            if not isinstance(code, str) or not _SLUG.match(code):
                raise self.fail("counties", f"county code {code!r} must be a lowercase slug")
            if code in seen:
                raise self.fail("counties", f"duplicate county {code!r}", needle=code, nth=2)
            seen.add(code)
            region = entry.get("region")
            if region not in region_set:
                raise self.fail(
                    "counties", f"county {code!r} names unknown region {region!r}", needle=code
                )
            counties.append(County(code, str(entry.get("label", code)), str(region)))
        if not counties:
            raise self.fail("counties", "a profile must list its counties")

        kind_codes = {c.code for c in codes["kind"]}
        fields = self._fields(self._table(data, "fields", ""), kind_codes)
        known_fields = set(_ACTIVITY_FIELDS) | set(fields)
        kinds: dict[str, KindSpec] = {}
        rules = self._table(data, "kinds", "")
        for key in rules:
            if key not in kind_codes:
                raise self.fail(f"kinds.{key}", "is not listed in codes.kind")
        for c in codes["kind"]:
            rule = self._table(rules, c.code, "kinds.")
            req = tuple(rule.get("required", ()))
            forb = tuple(rule.get("forbidden", ()))
            for f in req + forb:
                if f not in known_fields:
                    raise self.fail(f"kinds.{c.code}", f"names unknown field {f!r}", needle=f)
            kinds[c.code] = KindSpec(c.code, c.label, req, forb)

        limits = self._table(data, "limits", "")
        max_counts = {k: self._int(limits, k, "limits.", 0) for k in limits}
        tables = self._tables(data.get("tables", []), fields)
        supp, dp_policy = self._privacy(self._table(data, "privacy", ""))
        self._dp_tables(tables, dp_policy)
        return Profile(
            name=name,
            label=label,
            source=self.source,
            fiscal_year_start_month=month,
            start_date=start,
            codes=codes,
            counties=tuple(counties),
            regions=regions,
            kinds=kinds,
            fields=fields,
            tables=tables,
            suppression=supp,
            dp=dp_policy,
            max_counts=max_counts,
            languages=tuple(dict.fromkeys(languages)),
        )

    def _fields(self, raw: Mapping[str, Any], kind_codes: set[str]) -> dict[str, FieldSpec]:
        fields: dict[str, FieldSpec] = {}
        for name, spec in raw.items():
            key = f"fields.{name}"
            if not _SLUG.match(name) or name in _ACTIVITY_FIELDS:
                raise self.fail(key, "extra field names must be new lowercase slugs")
            if not isinstance(spec, Mapping):
                raise self.fail(key, "must be a table with a 'type'")
            ftype = spec.get("type")
            if ftype not in FIELD_TYPES:
                raise self.fail(
                    f"{key}.type",
                    f"unknown field type {ftype!r}; use one of {', '.join(sorted(FIELD_TYPES))}",
                    needle=str(ftype),
                )
            codes = self._codes(spec.get("codes", []), f"{key}.codes") if ftype == "code" else ()
            if ftype == "code" and not codes:
                raise self.fail(f"{key}.codes", "a code field needs a code list")
            kinds = tuple(spec.get("kinds", ()))
            for k in kinds:
                if k not in kind_codes:
                    raise self.fail(f"{key}.kinds", f"unknown kind {k!r}", needle=k)
            maximum = spec.get("max")
            if maximum is not None:
                maximum = self._num(spec, "max", f"{key}.", 0.0)
            fields[name] = FieldSpec(
                name, ftype, str(spec.get("label", name)), codes, maximum, kinds
            )
        return fields

    def _tables(self, raw: Any, fields: Mapping[str, FieldSpec]) -> tuple[TableSpec, ...]:
        extras = {n for n, f in fields.items() if f.type in ("code", "bool")}

        def fail(key: str, message: str, needle: str | None, nth: int) -> ProfileError:
            return self.fail(key, message, needle=needle, nth=nth)

        return parse_tables(raw, extras, fail, self.fail_in_table)

    def fail_in_table(self, index: int) -> Callable[[str, str], ProfileError]:
        """Faults at a key of the ``index``-th ``[[tables]]`` (its line, else its header's)."""

        def at(key: str, message: str) -> ProfileError:
            line = line_in_array(self.lines, "tables", index, key)
            where = f", line {line}" if line else ""
            return ProfileError(f"{self.source}{where}, key 'tables.{key}': {message}")

        return at

    def _dp_tables(self, tables: Sequence[TableSpec], policy: DPPolicy) -> None:
        """A DP table must fit the state's allotment, or it could never be released."""
        for i, t in enumerate(tables):
            if t.epsilon is not None and t.epsilon > policy.state_epsilon_per_fiscal_year:
                raise self.fail_in_table(i)(
                    "epsilon",
                    f"table {t.name!r} spends {t.epsilon:g} per fiscal year of data, more than "
                    "[privacy.dp] state_epsilon_per_fiscal_year "
                    f"({policy.state_epsilon_per_fiscal_year:g}) allows the state's DP tables",
                )

    def _privacy(self, raw: Mapping[str, Any]) -> tuple[SuppressionPolicy, DPPolicy]:
        s = self._table(raw, "suppression", "privacy.")
        p = "privacy.suppression."
        dominance = self._num(s, "dominance", p, 0.8, positive=True)
        if not 0 < dominance <= 1:
            raise self.fail_at(p + "dominance", "must be a share in (0, 1], e.g. 0.8 for 80 %")
        supp = SuppressionPolicy(
            min_consultants=self._int(s, "min_consultants", p, 3),
            min_count=self._int(s, "min_count", p, 11),
            dominance=dominance,
            protection=self._num(s, "protection", p, 0.2),
        )
        d = self._table(raw, "dp", "privacy.")
        p = "privacy.dp."
        for old, why in RETIRED_DP_KEYS.items():
            if old in d:
                raise self.fail_at(p + old, f"is no longer read: {why}")
        unit = d.get("unit", "consultant")
        if unit not in PRIVACY_UNITS:
            raise self.fail(p + "unit", f"privacy unit must be consultant or program, not {unit!r}")
        bounding = d.get("bounding", "norm")
        if bounding not in ("norm", "max_cells"):
            raise self.fail(p + "bounding", "must be norm or max_cells")

        bounds = self._table(d, "bounds", p)
        norms = self._table(d, "norm_bounds", p)
        for table, key in ((bounds, "bounds"), (norms, "norm_bounds")):
            for m in table:
                if m not in MEASURES:
                    raise self.fail_at(f"{p}{key}.{m}", f"unknown measure {m!r}")
                self._num(table, m, f"{p}{key}.", 0.0, positive=True)
        lifetime = self._num(d, "lifetime_epsilon_per_fiscal_year", p, 4.0)
        analyst = self._num(d, "analyst_epsilon_per_fiscal_year", p, min(2.0, lifetime))
        state = self._num(d, "state_epsilon_per_fiscal_year", p, 0.0)
        for key, value in (
            ("analyst_epsilon_per_fiscal_year", analyst),
            ("state_epsilon_per_fiscal_year", state),
        ):
            if value > lifetime:
                raise self.fail_at(
                    p + key,
                    f"{value:g} is more than lifetime_epsilon_per_fiscal_year ({lifetime:g}), "
                    "the cap everyone's releases of a fiscal year of data share",
                )
        delta = self._num(d, "delta", p, 1e-6, positive=True)
        if not delta < 1:
            raise self.fail_at(p + "delta", f"must lie strictly between 0 and 1, not {delta!r}")
        policy = DPPolicy(
            unit=unit,
            lifetime_epsilon_per_fiscal_year=lifetime,
            analyst_epsilon_per_fiscal_year=analyst,
            state_epsilon_per_fiscal_year=state,
            delta=delta,
            default_epsilon=self._num(d, "default_epsilon", p, 0.5, positive=True),
            default_rho=self._num(d, "default_rho", p, 0.05, positive=True),
            max_cells=self._int(d, "max_cells", p, 12),
            bounding=bounding,
            bounds={k: float(v) for k, v in bounds.items()},
            norm_bounds={k: float(v) for k, v in norms.items()},
        )
        return supp, policy
