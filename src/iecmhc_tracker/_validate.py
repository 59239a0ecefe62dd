"""Validation: small named rules, composed per field, each returning the problems it finds.

Every rule is a pure function ``(activity, profile, today) -> Iterable[Problem]``; ``validate``
runs all of them and returns every problem, never stopping at the first. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from ._codematch import listing, unknown_code
from ._errors import Problem, ValidationError
from ._model import CONVERTERS, COUNT_FIELDS, Activity, extra_name
from ._pii import Screen
from ._profile import KindSpec, Profile
from ._recode import recode
from ._text import ID_PATTERN, identifying_shape, pseudonym_problems, refused_characters

Rule = Callable[[Activity, Profile, dt.date], Iterable[Problem]]

NOTE_MAX = 4000
DEFAULT_MAX_COUNTS: dict[str, int] = {
    "minutes": 24 * 60,
    "children_benefiting": 500,
    "staff_influenced": 300,
    "families": 300,
    "participants": 1000,
    "rated_worthwhile": 1000,
    "referrals": 100,
}
_SINGLE_CODED = ("setting", "consultation_type", "tier", "modality", "format", "language")
_QUARTER = Decimal("0.25")


def pseudonym(field: str, *, required: bool) -> Rule:
    """A pseudonymous id: short, printable, no spaces (never a person's name or e-mail)."""

    def rule(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
        value = getattr(a, field)
        if value is None:
            if required:
                yield Problem(field, "required", "is required")
            return
        yield from pseudonym_problems(field, value)

    rule.__name__ = f"pseudonym_{field}"
    return rule


def in_code_list(field: str) -> Rule:
    """A single coded value must be one of the profile's codes for that field."""

    def rule(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
        value = getattr(a, field)
        if value is None:
            return
        allowed = p.code_set(field)
        if not allowed:
            yield Problem(field, "not_in_profile", f"is not recorded by the {p.label} profile")
        elif value not in allowed:
            yield Problem(field, "unknown_code", unknown_code(field, value, p.matcher(field)))

    rule.__name__ = f"in_code_list_{field}"
    return rule


def all_in_code_list(field: str, list_name: str | None = None) -> Rule:
    """Every code of a multi-valued field must be one of the profile's codes."""
    list_name = list_name or field

    def rule(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
        values = getattr(a, field)
        if field == "referrals":
            values = [code for code, _ in values]
        if not values:
            return
        allowed = p.code_set(list_name)
        for v in values:
            if v not in allowed:
                message = unknown_code(list_name, v, p.matcher(list_name))
                yield Problem(field, "unknown_code", message)

    rule.__name__ = f"all_in_code_list_{field}"
    return rule


def date_in_range(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    if a.date > today:
        yield Problem("date", "future", f"{a.date.isoformat()} is in the future")
    if a.date < p.start_date:
        yield Problem(
            "date",
            "too_early",
            f"{a.date.isoformat()} is before the {p.label} tracker starts "
            f"({p.start_date.isoformat()})",
        )


def hours_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    h = a.hours
    if h is None:
        return
    if h <= 0:
        yield Problem("hours", "range", "must be more than 0")
    elif h > 24:
        yield Problem("hours", "range", "must be at most 24 for one day's entry")
    elif h.adjusted() < -2 or h % _QUARTER != 0:  # 1e-999999999 % 0.25 rounds to 0
        yield Problem("hours", "quarter_hour", "must be in quarter hours (0.25, 0.5, 0.75 …)")


def counts_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    for field in COUNT_FIELDS:
        v = getattr(a, field)
        if v is None:
            continue
        limit = p.max_counts.get(field, DEFAULT_MAX_COUNTS[field])
        if v < 0:
            yield Problem(field, "negative", "must not be negative")
        elif v > limit:
            yield Problem(field, "too_large", f"must be at most {limit} for one entry")
    if a.minutes is not None and a.minutes == 0:
        yield Problem("minutes", "range", "must be at least 1 minute")
    if (
        a.rated_worthwhile is not None
        and a.participants is not None
        and a.rated_worthwhile > a.participants
    ):
        yield Problem(
            "rated_worthwhile", "exceeds", "cannot be more than the number of participants"
        )


def referrals_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    limit = p.max_counts.get("referrals", DEFAULT_MAX_COUNTS["referrals"])
    for code, count in a.referrals:
        if count < 1:
            yield Problem("referrals", "range", f"count for {code!r} must be at least 1")
        elif count > limit:
            yield Problem("referrals", "too_large", f"count for {code!r} must be at most {limit}")


def kind_rules(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    spec = p.kinds.get(a.kind)
    if spec is None:
        return  # unknown kind is reported by in_code_list("kind")
    extra = a.extra_fields
    for f in spec.required:
        value = extra.get(f) if f in p.fields else getattr(a, f)
        if value is None or value == () or value == "":
            yield Problem(f, "required", f"is required for a {spec.label.lower()} entry")
    for f in spec.forbidden:
        value = extra.get(f) if f in p.fields else getattr(a, f)
        if value not in (None, (), ""):
            yield Problem(f, "not_applicable", f"does not apply to a {spec.label.lower()} entry")


def extra_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    for name, value in a.extra:
        spec = p.fields.get(name)
        field = f"extra.{name}" if spec is not None else extra_name(name)
        if spec is None:
            yield Problem(field, "unknown_field", f"is not a field of the {p.label} profile")
            continue
        if spec.kinds and a.kind not in spec.kinds and value is not None:
            yield Problem(field, "not_applicable", f"applies only to {', '.join(spec.kinds)}")
        yield from _typed(field, spec.type, value, spec.maximum, p.code_set(name))


def _typed(
    field: str, ftype: str, value: Any, maximum: float | None, codes: frozenset[str]
) -> Iterator[Problem]:
    if value is None:
        return
    if ftype in ("count", "minutes"):
        if isinstance(value, bool) or not isinstance(value, int):
            yield Problem(field, "type", "must be a whole number")
        elif value < 0:
            yield Problem(field, "negative", "must not be negative")
        elif maximum is not None and value > maximum:
            yield Problem(field, "too_large", f"must be at most {maximum}")
    elif ftype == "bool":
        if not isinstance(value, bool):
            yield Problem(field, "type", "must be yes/no (true or false)")
    elif ftype == "code":
        if value not in codes:
            every = listing(sorted(codes), field.removeprefix("extra."))
            yield Problem(field, "unknown_code", f"expected one of: {every}")
    elif ftype == "hours":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24:
            yield Problem(field, "range", "must be hours between 0 and 24")
    elif ftype == "text":
        if not isinstance(value, str):
            yield Problem(field, "type", "must be text")
        elif len(value) > EXTRA_TEXT_MAX:
            yield Problem(field, "too_long", f"must be at most {EXTRA_TEXT_MAX} characters")
        # what the text holds is ``free_text_valid``'s to say


EXTRA_TEXT_MAX = 200


def free_text_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    """Every free text of the record, the note and each extra field of type ``text``: no
    refused character, and nothing the personal-data screen finds (said by kind and span)."""
    if a.note is not None:
        yield from _screened("note", a.note, NOTE_MAX, "notes", p)
    if not a.extra:
        return
    for name, value in a.extra:
        spec = p.fields.get(name)
        if spec is not None and spec.type == "text" and isinstance(value, str):
            yield from _screened(f"extra.{name}", value, EXTRA_TEXT_MAX, f"extra.{name}", p)


def note_valid(a: Activity, p: Profile, today: dt.date) -> Iterator[Problem]:
    """The note's part of ``free_text_valid``."""
    if a.note is not None:
        yield from _screened("note", a.note, NOTE_MAX, "notes", p)


def _screened(field: str, text: str, limit: int, subject: str, p: Profile) -> Iterator[Problem]:
    if len(text) > limit:
        if field == "note":  # an extra field's length is ``_typed``'s to report
            yield Problem(field, "too_long", f"must be at most {limit} characters")
        return
    bad = list(refused_characters(field, text))
    yield from bad
    if bad:
        return
    for hit in p.derived("validate.note_screen", _note_screen)(text):
        yield Problem(
            field,
            f"pii_{hit.kind}",
            f"seems to contain {hit.label} {hit.where()}; {subject} must hold no personal data"
            " — remove it",
        )


def _note_screen(p: Profile) -> Screen:
    """The note screen for the profile's note languages, knowing its county names."""
    return Screen(p.languages, [c.label for c in p.counties])


RULES: tuple[Rule, ...] = (
    pseudonym("consultant", required=True),
    pseudonym("program", required=False),
    in_code_list("county"),
    in_code_list("kind"),
    *(in_code_list(f) for f in _SINGLE_CODED),
    all_in_code_list("methods"),
    all_in_code_list("competencies"),
    all_in_code_list("referrals", "resource_type"),
    date_in_range,
    hours_valid,
    counts_valid,
    referrals_valid,
    kind_rules,
    extra_valid,
    free_text_valid,
)


def problems(activity: Activity, profile: Profile, today: dt.date | None = None) -> list[Problem]:
    """Every problem of ``activity`` under ``profile`` (empty when it is valid)."""
    day = today or dt.date.today()
    if profile.derived(_CLEAN, _compile_clean)(activity, day):
        if activity.note is None and not activity.extra:
            return []
        return list(free_text_valid(activity, profile, day))
    return [p for rule in RULES for p in rule(activity, profile, day)]


# -- the fast path ---------------------------------------------------------------------------
# Most records are clean. ``_compile_clean`` builds, once per profile, one function that says
# whether an activity passes every rule of RULES but ``free_text_valid`` (which always runs on
# a note or extra text): True only where each rule would find nothing, False wherever anything
# looks off, and then ``problems`` runs the rules one by one. Each check uses the rule's own
# comparisons.

_CLEAN = "validate.clean"
_EMPTY = (None, (), "")
#: every valid number of hours (quarter hours up to a day)
_QUARTER_HOURS = frozenset(Decimal(k) / 4 for k in range(1, 97))
#: pseudonyms already matched by ID_PATTERN (the pattern depends on the text alone)
_GOOD_IDS: set[str] = set()
_GOOD_IDS_MAX = 1 << 16


def _id_ok(value: str) -> bool:
    if not ID_PATTERN.fullmatch(value) or identifying_shape(value) is not None:
        return False
    if type(value) is str and len(_GOOD_IDS) < _GOOD_IDS_MAX:
        _GOOD_IDS.add(value)
    return True


def _typed_ok(ftype: str, maximum: float | None, codes: frozenset[str]) -> Callable[[Any], bool]:
    """Whether ``_typed`` finds nothing in a non-None value, for one extra field."""
    if ftype in ("count", "minutes"):
        return lambda v: (
            not isinstance(v, bool)
            and isinstance(v, int)
            and not v < 0
            and not (maximum is not None and v > maximum)
        )
    if ftype == "bool":
        return lambda v: isinstance(v, bool)
    if ftype == "code":
        return lambda v: v in codes
    if ftype == "hours":
        return lambda v: not isinstance(v, bool) and isinstance(v, int | float) and 0 < v <= 24
    if ftype == "text":
        return lambda v: isinstance(v, str) and len(v) <= EXTRA_TEXT_MAX
    return lambda v: True


#: Activity fields holding a number, a yes/no, a date or an id: ``kind_rules`` counts them as
#: given unless None. Every other field holds text, codes or pairs: given unless empty.
_SCALAR_FIELDS = frozenset({"id", "date", "hours", *COUNT_FIELDS, "recommended_consultation"})


def _kind_check(p: Profile, spec: KindSpec) -> Callable[[Activity], bool] | None:
    """Whether ``kind_rules`` finds nothing, for activities of one kind (None: not compiled)."""
    tests: list[str] = []
    extra_required: list[str] = []
    extra_forbidden: list[str] = []
    for names, required in ((spec.required, True), (spec.forbidden, False)):
        for f in names:
            if f in p.fields:
                (extra_required if required else extra_forbidden).append(f)
            elif f not in CONVERTERS:
                return None  # not a field: the rule itself says what happens
            elif f in _SCALAR_FIELDS:
                tests.append(f"a.{f} is None" if required else f"a.{f} is not None")
            else:
                tests.append(f"not a.{f}" if required else f"a.{f}")
    source = f"def check(a):\n    return not ({' or '.join(tests) or 'False'})\n"
    scope: dict[str, Any] = {}
    exec(compile(source, f"<kind rules of {spec.code}>", "exec"), scope)
    attrs_ok: Callable[[Activity], bool] = scope["check"]
    if not (extra_required or extra_forbidden):
        return attrs_ok

    def check(a: Activity) -> bool:
        if not attrs_ok(a):
            return False
        extra = a.extra_fields
        for f in extra_required:
            value = extra.get(f)
            if value is None or value == () or value == "":
                return False
        return all(extra.get(f) in _EMPTY for f in extra_forbidden)

    return check


def _compile_clean(p: Profile) -> Callable[[Activity, dt.date], bool]:
    code_set = p.code_set
    counties = code_set("county")
    # a single coded field passes when None or one of the profile's codes
    settings, types, tiers, modalities, formats, languages = (
        code_set(f) | {None} for f in _SINGLE_CODED
    )
    methods, competencies, resources = map(code_set, ("methods", "competencies", "resource_type"))
    start = p.start_date
    limit = {f: p.max_counts.get(f, DEFAULT_MAX_COUNTS[f]) for f in COUNT_FIELDS}
    max_minutes, max_children = limit["minutes"], limit["children_benefiting"]
    max_staff, max_families = limit["staff_influenced"], limit["families"]
    max_participants, max_rated = limit["participants"], limit["rated_worthwhile"]
    max_referral = p.max_counts.get("referrals", DEFAULT_MAX_COUNTS["referrals"])
    by_kind = {
        code: check
        for code, spec in p.kinds.items()
        if code in code_set("kind") and (check := _kind_check(p, spec)) is not None
    }
    extras = {
        name: (frozenset(f.kinds), _typed_ok(f.type, f.maximum, code_set(name)))
        for name, f in p.fields.items()
    }
    good = _GOOD_IDS
    quarter_hours = _QUARTER_HOURS
    get_context = decimal.getcontext

    def clean(a: Activity, today: dt.date) -> bool:
        c = a.consultant
        if not (c in good or (c is not None and _id_ok(c))):
            return False
        prog = a.program
        if not (prog is None or prog in good or _id_ok(prog)):
            return False
        kind = a.kind
        kind_ok = by_kind.get(kind)
        if (
            kind_ok is None
            or a.county not in counties
            or a.setting not in settings
            or a.consultation_type not in types
            or a.tier not in tiers
            or a.modality not in modalities
            or a.format not in formats
            or a.language not in languages
        ):
            return False
        many = a.methods
        if many and not methods.issuperset(many):
            return False
        many = a.competencies
        if many and not competencies.issuperset(many):
            return False
        d = a.date
        if d > today or d < start:
            return False
        h = a.hours
        if h is not None:
            # h % 0.25 in hours_valid is exact on these values in such a context
            ctx = get_context()
            if not (h in quarter_hours and ctx.prec >= 4 and ctx.Emax >= ctx.prec):
                return False
        k = a.minutes
        if k is not None and (k < 0 or k > max_minutes or k == 0):
            return False
        k = a.children_benefiting
        if k is not None and (k < 0 or k > max_children):
            return False
        k = a.staff_influenced
        if k is not None and (k < 0 or k > max_staff):
            return False
        k = a.families
        if k is not None and (k < 0 or k > max_families):
            return False
        n = a.participants
        if n is not None and (n < 0 or n > max_participants):
            return False
        k = a.rated_worthwhile
        if k is not None and (k < 0 or k > max_rated or (n is not None and k > n)):
            return False
        for code, count in a.referrals:
            if code not in resources or count < 1 or count > max_referral:
                return False
        if not kind_ok(a):
            return False
        for name, value in a.extra:
            spec = extras.get(name)
            if spec is None:
                return False
            if value is not None:
                kinds, typed_ok = spec
                if (kinds and kind not in kinds) or not typed_ok(value):
                    return False
        return True

    return clean


def validate(
    record: Activity | Mapping[str, Any], profile: Profile, today: dt.date | None = None
) -> Activity:
    """Return the record as a valid Activity or raise :class:`ValidationError` with all problems.

    Accepts an :class:`Activity` or a mapping; raises nothing but ``ValidationError``.
    """
    activity, found = examine(record, profile, today)
    if found or activity is None:
        raise ValidationError(found)
    return activity


def _placeholders(profile: Profile, day: dt.date) -> dict[str, Any]:
    """Harmless values for the fields every record needs, to check the others around them."""
    return {
        "consultant": "c-check",
        "date": day,
        "county": min(profile.code_set("county")),
        "kind": next(iter(profile.kinds)),
    }


def examine(
    record: Activity | Mapping[str, Any], profile: Profile, today: dt.date | None = None
) -> tuple[Activity | None, list[Problem]]:
    """The Activity (None when it cannot be built) and every problem of ``record``.

    A field that cannot be read at all does not hide the others' problems: the readable
    fields are still checked against the profile, around placeholders for the unreadable.
    """
    day = today or dt.date.today()
    if isinstance(record, Activity):
        return _checked(record, profile, day)
    try:
        activity = Activity.from_dict(record)
    except ValidationError as exc:
        unreadable = {p.field for p in exc.problems}
        if not isinstance(record, Mapping):
            return None, list(exc.problems)
        readable = {k: v for k, v in record.items() if isinstance(k, str) and k not in unreadable}
        patched = {**_placeholders(profile, day), **readable}
        try:
            partial = Activity.from_dict(patched)
        except ValidationError:  # pragma: no cover - readable fields convert by construction
            return None, list(exc.problems)
        skip = unreadable | (set(patched) - set(readable))
        more = [p for p in problems(partial, profile, day) if p.field.split(".")[0] not in skip]
        return None, [*exc.problems, *more]
    return _checked(activity, profile, day)


def _checked(a: Activity, profile: Profile, day: dt.date) -> tuple[Activity, list[Problem]]:
    """``a`` with its codes as the profile spells them (``recode``), and its problems."""
    if profile.derived(_CLEAN, _compile_clean)(a, day):
        if a.note is None and not a.extra:
            return a, []
        return a, list(free_text_valid(a, profile, day))
    a = recode(a, profile)
    return a, problems(a, profile, day)


def examiner(
    profile: Profile,
) -> Callable[
    [Activity | Mapping[str, Any], dt.date | None], tuple[Activity | None, list[Problem]]
]:
    """``examine`` under one profile, its checks compiled once: what a bulk import calls."""
    return profile.derived("validate.examine", _compile_examiner)


def _compile_examiner(
    profile: Profile,
) -> Callable[
    [Activity | Mapping[str, Any], dt.date | None], tuple[Activity | None, list[Problem]]
]:
    clean = profile.derived(_CLEAN, _compile_clean)

    def run(
        record: Activity | Mapping[str, Any], today: dt.date | None
    ) -> tuple[Activity | None, list[Problem]]:
        day = today or dt.date.today()
        if isinstance(record, Activity) and clean(record, day):
            if record.note is None and not record.extra:
                return record, []
            return record, list(free_text_valid(record, profile, day))
        return examine(record, profile, day)

    return run


def field_problems(
    profile: Profile,
    field: str,
    value: Any,
    context: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> list[Problem]:
    """The problems of one field's value, given the other answers so far (``context``).

    Lets an interactive form validate as the user types: the value is checked in a record
    completed with harmless placeholders, and only this field's problems are returned.
    """
    day = today or dt.date.today()
    record = _placeholders(profile, day)
    record.update(context or {})
    record[field] = value

    def mine(p: Problem) -> bool:
        return p.field == field or p.field.startswith(f"{field}.")

    try:
        activity = Activity.from_dict(record)
    except ValidationError as exc:
        return [p for p in exc.problems if mine(p)]
    return [p for p in _checked(activity, profile, day)[1] if mine(p)]
