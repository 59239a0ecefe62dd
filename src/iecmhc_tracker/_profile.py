"""Profiles: one TOML file per state with its code lists, counties, tables and privacy policy.
A profile is data, not code: a state adapts the model by writing one file. Loading checks the
whole file and raises :class:`ProfileError` naming the file, the line and the key at fault."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import attrs

from ._codematch import CodeMatcher, listing
from ._columns import BASE_DIMENSIONS
from ._engagement_codes import complete_codes
from ._errors import ProfileError
from ._model import CONVERTERS
from ._privacypolicy import PRIVACY_UNITS as PRIVACY_UNITS
from ._privacypolicy import RETIRED_DP_KEYS as RETIRED_DP_KEYS
from ._privacypolicy import DPPolicy as DPPolicy
from ._privacypolicy import SuppressionPolicy as SuppressionPolicy
from ._privacypolicy import read_privacy
from ._profilekeys import CODED_FIELDS as CODED_FIELDS
from ._profilekeys import check_keys
from ._tablespec import TableSpec as TableSpec
from ._tablespec import parse_tables
from ._tomltext import TomlReader

NOTE_LANGUAGES: tuple[str, ...] = ("en", "es")  #: the languages notes may be written in

#: Field names of Activity, which a profile's kind rules may name.
_ACTIVITY_FIELDS: tuple[str, ...] = tuple(CONVERTERS)

#: Types an extra (state-specific) field may have.
FIELD_TYPES: frozenset[str] = frozenset({"count", "bool", "code", "text", "hours", "minutes"})
#: Dimensions a query may group by, besides a profile's coded extra fields.
SHIPPED: tuple[str, ...] = ("illinois", "california", "montana")
T = TypeVar("T")


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
    #: the profile's own version (``[profile] version``), recorded with the store's data
    version: str = "1"
    #: the digest of the profile's content (its parsed TOML: comments and layout aside); a
    #: store refuses a profile with another digest than the one its data was recorded under
    digest: str = attrs.field(default="", eq=False, hash=False)
    #: the TOML text the profile was read from (a store keeps it, to be read without the file)
    text: str = attrs.field(default="", repr=False, eq=False, hash=False)
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

    def code_list(self, field: str) -> Sequence[Code | County]:
        """A field's codes with their labels, in the profile's order (empty when the profile
        does not record the field): a coded field, ``county``, ``region`` or an extra field."""
        if field == "county":
            return self.counties
        if field == "region":
            return self.regions
        if field in self.fields:
            return self.fields[field].codes
        return self.codes.get(field, ())

    def coded_fields(self) -> tuple[str, ...]:
        """Every field the profile lists codes for, ``county`` and ``region`` first."""
        coded = [f for f in CODED_FIELDS if self.codes.get(f)]
        extra = [n for n, f in self.fields.items() if f.codes]
        return ("county", "region", *coded, *extra)

    def matcher(self, field: str) -> CodeMatcher:
        """What matches typed values to ``field``'s codes (case, accents and labels aside)."""
        matchers = self.derived("profile.matchers", lambda p: dict[str, CodeMatcher]())
        found = matchers.get(field)
        if found is None:
            pairs = ((c.code, c.label) for c in self.code_list(field))
            found = matchers[field] = CodeMatcher(pairs)
        return found

    def code_label(self, field: str, code: str) -> str:
        """The human label of a code (the code itself when it has none)."""
        for c in self.code_list(field):
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
    return load_profile_text(text, source)


def load_profile_text(text: str, source: str = "<profile>") -> Profile:
    """A profile from its TOML text; ``source`` names it in messages (and is kept as
    :attr:`Profile.source`). What a store's remembered profile is read back with."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    reader = TomlReader(text, source)
    check_keys(data, reader)
    return _Builder(reader).build(data, text)


def content_digest(data: Mapping[str, Any]) -> str:
    """The SHA-256 of a parsed profile: the same for the same content, whatever its comments,
    layout or key order."""
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
#: what a code or a field's name may be made of, said in every message that refuses one
SLUG_RULE = (
    "a code is lowercase letters a–z, digits 0–9 and underscores, starting with a letter or "
    "a digit (e.g. cook, la_paz, region_1)"
)


class _Builder:
    """Turns parsed TOML into a Profile, locating every fault in the source text."""

    def __init__(self, reader: TomlReader) -> None:
        self.r = reader
        self.source = reader.source

    def _codes(self, raw: Any, key: str) -> tuple[Code, ...]:
        r = self.r
        if not isinstance(raw, list):
            raise r.fail_at(key, "must be an array of { code = …, label = … } tables")
        out: list[Code] = []
        seen: set[str] = set()
        for entry in raw:
            if isinstance(entry, str):
                entry = {"code": entry, "label": entry.replace("_", " ").capitalize()}
            if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
                raise r.fail(key, f"entry {entry!r} needs a string 'code'")
            code = entry["code"]
            if not _SLUG.match(code):
                raise r.fail_entry(key, code, f"code {code!r} is not a code: {SLUG_RULE}")
            if code in seen:
                raise r.fail_entry(key, code, f"duplicate code {code!r}", nth=2)
            seen.add(code)
            out.append(Code(code, str(entry.get("label", code))))
        return tuple(out)

    def build(self, data: Mapping[str, Any], text: str) -> Profile:
        r = self.r
        meta = r.table(data, "profile", "")
        name = r.string(meta, "name", "profile.")
        label = r.string(meta, "label", "profile.", default=name.title())
        version = meta.get("version", "1")
        if isinstance(version, bool) or not isinstance(version, str | int | float):
            raise r.fail_at("profile.version", f'must be a string like "2026.1", not {version!r}')
        month = meta.get("fiscal_year_start_month", 7)
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise r.fail_at(
                "profile.fiscal_year_start_month", f"must be a month number 1–12, not {month!r}"
            )
        start = meta.get("start_date", dt.date(2015, 1, 1))
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise r.fail_at("profile.start_date", "must be a TOML date like 2020-07-01")

        languages = meta.get("languages", list(NOTE_LANGUAGES))
        if (
            not isinstance(languages, list)
            or not languages
            or any(lang not in NOTE_LANGUAGES for lang in languages)
        ):
            raise r.fail_at(
                "profile.languages",
                f"must be a list of note languages from {', '.join(NOTE_LANGUAGES)}, "
                f"not {languages!r}",
            )

        raw_codes = r.table(data, "codes", "")
        codes: dict[str, tuple[Code, ...]] = {}
        for key, raw in raw_codes.items():
            if key not in CODED_FIELDS:
                raise r.fail_at(
                    f"codes.{key}",
                    f"unknown coded field; expected one of {', '.join(CODED_FIELDS)}",
                )
            codes[key] = self._codes(raw, f"codes.{key}")
        codes = complete_codes(codes, Code, r.fail)
        if not codes.get("kind"):
            raise r.fail_at("codes.kind", "a profile must list at least one activity kind")

        regions = self._codes(data.get("regions", []), "regions")
        counties = self._counties(data.get("counties", []), regions)
        kind_codes = {c.code for c in codes["kind"]}
        fields = self._fields(r.table(data, "fields", ""), kind_codes)
        kinds = self._kinds(r.table(data, "kinds", ""), codes["kind"], fields)

        limits = r.table(data, "limits", "")
        max_counts = {k: r.whole(limits, k, "limits.", 0) for k in limits}
        known = {
            "county": {c.code for c in counties},
            "region": {c.code for c in regions},
            **{f: {c.code for c in cs} for f, cs in codes.items()},
        }
        tables = self._tables(data.get("tables", []), fields, known)
        supp, dp_policy = read_privacy(r, r.table(data, "privacy", ""))
        self._dp_tables(tables, dp_policy)
        return Profile(
            name=name,
            label=label,
            source=self.source,
            fiscal_year_start_month=month,
            start_date=start,
            codes=codes,
            counties=counties,
            regions=regions,
            kinds=kinds,
            fields=fields,
            tables=tables,
            suppression=supp,
            dp=dp_policy,
            max_counts=max_counts,
            languages=tuple(dict.fromkeys(languages)),
            version=str(version),
            digest=content_digest(data),
            text=text,
        )

    def _counties(self, raw: Any, regions: tuple[Code, ...]) -> tuple[County, ...]:
        r = self.r
        region_set = {c.code for c in regions}
        counties: list[County] = []
        seen: set[str] = set()
        if not isinstance(raw, list):
            raise r.fail_at("counties", "must be an array of { code, label, region } tables")
        for entry in raw:
            if not isinstance(entry, Mapping):
                raise r.fail("counties", f"entry {entry!r} must be a table")
            code = entry.get("code")
            if not isinstance(code, str):
                raise r.fail("counties", f"entry {entry!r} needs a string 'code'")
            if not _SLUG.match(code):
                raise r.fail_entry(
                    "counties", code, f"county code {code!r} is not a code: {SLUG_RULE}"
                )
            if code in seen:
                raise r.fail_entry("counties", code, f"duplicate county {code!r}", nth=2)
            seen.add(code)
            region = entry.get("region")
            if region not in region_set:
                raise r.fail_entry(
                    "counties",
                    code,
                    f"county {code!r} names unknown region {region!r}; the regions are: "
                    f"{listing(sorted(region_set), 'region') or 'none (list them in regions)'}",
                )
            counties.append(County(code, str(entry.get("label", code)), str(region)))
        if not counties:
            raise r.fail("counties", "a profile must list its counties")
        return tuple(counties)

    def _kinds(
        self, rules: Mapping[str, Any], kind_list: tuple[Code, ...], fields: Mapping[str, Any]
    ) -> dict[str, KindSpec]:
        r = self.r
        kind_codes = [c.code for c in kind_list]
        known_fields = [*_ACTIVITY_FIELDS, *fields]
        for key in rules:
            if key not in kind_codes:
                raise r.fail_at(
                    f"kinds.{key}",
                    f"is not listed in codes.kind (the kinds: {', '.join(kind_codes)})",
                )
        kinds: dict[str, KindSpec] = {}
        for c in kind_list:
            rule = r.table(rules, c.code, "kinds.")
            lists: dict[str, tuple[str, ...]] = {}
            for which in ("required", "forbidden"):
                value = rule.get(which, ())
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise r.fail_at(f"kinds.{c.code}.{which}", "must be a list of field names")
                for f in value:
                    if f not in known_fields:
                        raise r.fail_at(
                            f"kinds.{c.code}.{which}",
                            f"names unknown field {f!r}; the fields: {', '.join(known_fields)}",
                        )
                lists[which] = tuple(value)
            kinds[c.code] = KindSpec(c.code, c.label, lists["required"], lists["forbidden"])
        return kinds

    def _fields(self, raw: Mapping[str, Any], kind_codes: set[str]) -> dict[str, FieldSpec]:
        r = self.r
        fields: dict[str, FieldSpec] = {}
        for name, spec in raw.items():
            key = f"fields.{name}"
            if not _SLUG.match(name):
                raise r.fail_at(key, f"an extra field's name is written like a code: {SLUG_RULE}")
            if name in _ACTIVITY_FIELDS:
                raise r.fail_at(
                    key, f"{name!r} is already a field of every activity; pick another name"
                )
            if not isinstance(spec, Mapping):
                raise r.fail_at(key, "must be a table with a 'type'")
            ftype = spec.get("type")
            if ftype not in FIELD_TYPES:
                raise r.fail_at(
                    f"{key}.type",
                    f"unknown field type {ftype!r}; use one of {', '.join(sorted(FIELD_TYPES))}",
                )
            codes = self._codes(spec.get("codes", []), f"{key}.codes") if ftype == "code" else ()
            if ftype == "code" and not codes:
                raise r.fail_at(f"{key}.codes", "a code field needs a code list")
            kinds = tuple(spec.get("kinds", ()))
            for k in kinds:
                if k not in kind_codes:
                    raise r.fail_at(
                        f"{key}.kinds",
                        f"unknown kind {k!r}; the kinds: {', '.join(sorted(kind_codes))}",
                    )
            maximum = spec.get("max")
            if maximum is not None:
                maximum = r.number(spec, "max", f"{key}.", 0.0)
            fields[name] = FieldSpec(
                name, ftype, str(spec.get("label", name)), codes, maximum, kinds
            )
        return fields

    def _tables(
        self, raw: Any, fields: Mapping[str, FieldSpec], known: Mapping[str, set[str]]
    ) -> tuple[TableSpec, ...]:
        extras = {
            n: {c.code for c in f.codes} for n, f in fields.items() if f.type in ("code", "bool")
        }

        def fail(key: str, message: str, needle: str | None, nth: int) -> ProfileError:
            return self.r.fail(key, message, needle=needle, nth=nth)

        def fail_in(index: int) -> Callable[[str, str], ProfileError]:
            return self.r.fail_in_array("tables", index)

        return parse_tables(raw, extras, fail, fail_in, known)

    def _dp_tables(self, tables: Sequence[TableSpec], policy: DPPolicy) -> None:
        """A DP table must fit the state's allotment, or it could never be released."""
        for i, t in enumerate(tables):
            if t.epsilon is not None and t.epsilon > policy.state_epsilon_per_fiscal_year:
                raise self.r.fail_in_array("tables", i)(
                    "epsilon",
                    f"table {t.name!r} spends {t.epsilon:g} per fiscal year of data, more than "
                    "[privacy.dp] state_epsilon_per_fiscal_year "
                    f"({policy.state_epsilon_per_fiscal_year:g}) allows the state's DP tables",
                )
