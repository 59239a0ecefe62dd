"""Activity <-> store row: the flat, plain-primitive form every store speaks.

A row is a ``dict`` with the keys of :data:`ROW_COLUMNS` plus ``"referrals"`` (resource type ->
count). Derived values (fiscal year, quarter, region) are materialised here, at write time, so
that stores can filter and group on them in SQL; the Activity itself never carries them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from ._columns import Row
from ._model import Activity
from ._profile import Profile


def to_row(a: Activity, profile: Profile) -> Row:
    """The store row of a (validated) activity."""
    return row_builder(profile)(a)


def row_builder(profile: Profile) -> Callable[[Activity], Row]:
    """``to_row`` for one profile, its lookups precompiled (built once per profile)."""
    return profile.derived("rows.to_row", _compile_row)


K = TypeVar("K")
V = TypeVar("V")


class _Memo(dict[K, V]):
    """A dict that makes a missing value with ``make``, keeping at most ``limit`` of them."""

    def __init__(self, make: Callable[[K], V], limit: int = 1 << 16) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: K) -> V:
        value = self.make(key)
        if len(self) < self.limit:
            self[key] = value
        return value


def _code_json(code: str | None) -> str:
    return "null" if code is None else _ENC(code)


def _codes_json(codes: tuple[str, ...]) -> tuple[str, str]:
    """A code list as JSON and as the row's comma-separated text."""
    return ("[" + ", ".join(map(_ENC, codes)) + "]" if codes else "[]"), ",".join(codes)


def _compile_row(profile: Profile) -> Callable[[Activity], Row]:
    tagged = frozenset(k for k, f in profile.fields.items() if f.type in ("code", "bool"))
    region_of = {c.code: c.region for c in profile.counties}.get
    # Profile.fiscal_year and Profile.fiscal_quarter, as tables by calendar month
    first = profile.fiscal_year_start_month
    year_shift = tuple(0 if first == 1 else int(m >= first) for m in range(13))
    quarter_of = tuple(((m - first) % 12) // 3 + 1 for m in range(13))

    def date_parts(day: dt.date) -> tuple[int, int, str]:
        month = day.month
        return day.year + year_shift[month], quarter_of[month], _ENC(day.isoformat())

    # coded fields hold exact str (their converter strips), code lists exact tuples of them
    codes: _Memo[str | None, str] = _Memo(_code_json)
    codes[None] = "null"
    for field in (*profile.codes, "county"):
        for code in profile.code_set(field):
            codes[code] = _ENC(code)
    many: _Memo[tuple[str, ...], tuple[str, str]] = _Memo(_codes_json)
    days: _Memo[dt.date, tuple[int, int, str]] = _Memo(date_parts)
    hours_get = _HOURS.get
    get_context = decimal.getcontext
    date_type = dt.date

    def build(a: Activity) -> Row:
        sid = str(a.id)
        day = a.date
        fiscal_year, quarter, day_json = days[day] if type(day) is date_type else date_parts(day)
        pairs = a.extra
        if pairs:
            extra = dict(pairs)
            extra_json = _EXTRA_JSON(extra)
            tags = "".join(
                f"|{k}={_tag_value(v)}"
                for k, v in sorted(extra.items())
                if k in tagged and v is not None
            )
            if tags:
                tags += "|"
        else:
            extra_json = tags = ""
        hours = a.hours
        if hours is None:
            hours_float = None
            hours_json = "null"
        else:
            known = hours_get(hours) if type(hours) is Decimal else None
            if known is not None and _exact_context(get_context()):
                hours_float, hours_json = known
            else:
                hours_float = float(hours)
                hours_json = _ENC(format(hours.normalize(), "f"))
        methods_json, methods = many[a.methods]
        competencies_json, competencies = many[a.competencies]
        refs = a.referrals
        rec = a.recommended_consultation
        county = a.county
        return {
            "id": sid,
            "consultant": a.consultant,
            "program": a.program,
            "date": day,
            "fiscal_year": fiscal_year,
            "quarter": quarter,
            "county": county,
            "region": region_of(county),
            "setting": a.setting,
            "kind": a.kind,
            "consultation_type": a.consultation_type,
            "tier": a.tier,
            "modality": a.modality,
            "format": a.format,
            "methods": methods,
            "competencies": competencies,
            "hours": hours_float,
            "minutes": a.minutes,
            "children_benefiting": a.children_benefiting,
            "staff_influenced": a.staff_influenced,
            "families": a.families,
            "participants": a.participants,
            "rated_worthwhile": a.rated_worthwhile,
            "referral_total": sum(c for _, c in refs) if refs else 0,
            "recommended_consultation": None if rec is None else int(rec),
            "language": a.language,
            "note": a.note,
            "extra": extra_json,
            "tags": tags,
            "referrals": dict(refs),
            "content_hash": _digest(
                a, sid, day_json, hours_json, extra_json, methods_json, competencies_json, codes
            ),
            "engagement": None if a.engagement is None else str(a.engagement),
        }

    return build


def _tag_value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def content_hash(a: Activity) -> str:
    """A digest of everything the consultant entered: equal content, equal hash.

    It is the SHA-256 (first 32 hex digits) of ``json.dumps(a.to_dict(), sort_keys=True,
    ensure_ascii=True, default=str)`` (which holds ``engagement`` only when the entry is linked);
    stored rows keep it, so that text must never change.
    ``_digest`` writes the same text field by field, without the intermediate dict.
    """
    pairs = a.extra
    hours = a.hours
    return _digest(
        a,
        str(a.id),
        _ENC(a.date.isoformat()),
        "null" if hours is None else _ENC(format(hours.normalize(), "f")),
        _EXTRA_JSON(dict(pairs)) if pairs else "",
        _codes_json(a.methods)[0],
        _codes_json(a.competencies)[0],
        _ANY_CODES,
    )


#: ``json.dumps(obj, sort_keys=True)``, the encoder built once
_EXTRA_JSON = json.JSONEncoder(sort_keys=True).encode
#: a string as JSON with ``ensure_ascii`` (the function ``json.dumps`` itself uses)
_ENC = json.encoder.encode_basestring_ascii
#: a whole number as JSON (``json.dumps`` writes any int, subclasses too, with int.__repr__)
_NUM = int.__repr__
_ANY_CODES: _Memo[str | None, str] = _Memo(_code_json, limit=1 << 12)


def _hours_table() -> dict[Decimal, tuple[float, str]]:
    with decimal.localcontext(decimal.Context()):
        return {
            q: (float(q), _ENC(format(q.normalize(), "f")))
            for q in (Decimal(k) / 4 for k in range(1, 97))
        }


#: every valid number of hours (quarter hours up to a day) -> (row value, JSON in the hash)
_HOURS = _hours_table()


def _exact_context(ctx: decimal.Context) -> bool:
    """Whether ``normalize()`` of quarter hours up to 24 is exact in ``ctx``.

    Those values have at most 4 significant digits and adjusted exponents from -1 to 1, so
    they are exact at 4 digits of precision and an exponent range holding them (also when
    exponents are clamped); the default context has far more of both.
    """
    return ctx.prec >= 4 and ctx.Emax >= ctx.prec and ctx.Emin <= -1


def _digest(
    a: Activity,
    sid: str,
    day_json: str,
    hours_json: str,
    extra_json: str,
    methods_json: str,
    competencies_json: str,
    codes: Mapping[str | None, str],
) -> str:
    """The content hash, from the JSON text of ``a.to_dict()`` with sorted keys written out.

    Values are encoded as ``json.dumps`` encodes them: strings by the same function (``codes``
    maps the coded fields' values, exact str or None, to it), whole numbers by
    ``int.__repr__``, booleans and None by name, lists and dicts with ", " and ": "
    separators. ``referrals`` and ``extra`` are sorted pairs already, so their dicts iterate
    in sorted key order.
    """
    enc = _ENC
    num = _NUM
    cb = a.children_benefiting
    fam = a.families
    mins = a.minutes
    note = a.note
    part = a.participants
    prog = a.program
    rated = a.rated_worthwhile
    rec = a.recommended_consultation
    refs = a.referrals
    staff = a.staff_influenced
    linked = a.engagement
    # present only when linked, so an unlinked entry hashes as it always has
    link_json = "" if linked is None else f'"engagement": {enc(str(linked))}, '
    payload = (
        f'{{"children_benefiting": {"null" if cb is None else num(cb)}, '
        f'"competencies": {competencies_json}, '
        f'"consultant": {enc(a.consultant)}, '
        f'"consultation_type": {codes[a.consultation_type]}, '
        f'"county": {codes[a.county]}, '
        f'"date": {day_json}, '
        f"{link_json}"
        f'"extra": {extra_json or "{}"}, '
        f'"families": {"null" if fam is None else num(fam)}, '
        f'"format": {codes[a.format]}, '
        f'"hours": {hours_json}, '
        f'"id": {enc(sid)}, '
        f'"kind": {codes[a.kind]}, '
        f'"language": {codes[a.language]}, '
        f'"methods": {methods_json}, '
        f'"minutes": {"null" if mins is None else num(mins)}, '
        f'"modality": {codes[a.modality]}, '
        f'"note": {"null" if note is None else enc(note)}, '
        f'"participants": {"null" if part is None else num(part)}, '
        f'"program": {"null" if prog is None else enc(prog)}, '
        f'"rated_worthwhile": {"null" if rated is None else num(rated)}, '
        f'"recommended_consultation": {"null" if rec is None else "true" if rec else "false"}, '
        f'"referrals": {_referrals_json(refs) if refs else "{}"}, '
        f'"setting": {codes[a.setting]}, '
        f'"staff_influenced": {"null" if staff is None else num(staff)}, '
        f'"tier": {codes[a.tier]}}}'
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _referrals_json(refs: tuple[tuple[str, int], ...]) -> str:
    return "{" + ", ".join([f"{_ENC(code)}: {_NUM(n)}" for code, n in refs]) + "}"


def from_row(row: Row) -> Activity:
    """The Activity a stored row holds (derived columns are dropped)."""
    extra = json.loads(row["extra"]) if row.get("extra") else {}
    hours = row.get("hours")
    rec = row.get("recommended_consultation")
    return Activity(
        id=uuid.UUID(str(row["id"])),
        consultant=row["consultant"],
        program=row.get("program"),
        date=row["date"],
        county=row["county"],
        setting=row.get("setting"),
        kind=row["kind"],
        consultation_type=row.get("consultation_type"),
        tier=row.get("tier"),
        modality=row.get("modality"),
        format=row.get("format"),
        methods=tuple(m for m in (row.get("methods") or "").split(",") if m),
        competencies=tuple(m for m in (row.get("competencies") or "").split(",") if m),
        hours=None if hours is None else Decimal(repr(float(hours))),
        minutes=row.get("minutes"),
        children_benefiting=row.get("children_benefiting"),
        staff_influenced=row.get("staff_influenced"),
        families=row.get("families"),
        participants=row.get("participants"),
        rated_worthwhile=row.get("rated_worthwhile"),
        referrals=row.get("referrals") or {},
        recommended_consultation=None if rec is None else bool(rec),
        language=row.get("language"),
        note=row.get("note"),
        extra=extra,
        engagement=row.get("engagement"),
    )
