"""Detectors of numbers and addresses: e-mail, phone, SSN/ITIN, Medicaid, case and record
numbers, dates of birth, street addresses and post boxes (English and Spanish cues)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import phonenumbers

from .base import Span

_TLD = r"com|org|net|edu|gov|us|info|biz|io|co|mx|k12\.il\.us|il\.us"
_EMAIL_PLAIN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT = r"(?:\s*[(\[{<]\s*(?:at|arroba)\s*[)\]}>]\s*|\s+(?:at|arroba)\s+)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|punto)\s*[)\]}>]\s*|\s+(?:dot|punto)\s+|\.)"
_EMAIL_OBFUSCATED = re.compile(
    rf"\b[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}(?:{_TLD})\b", re.IGNORECASE
)


def _email(text: str, languages: frozenset[str]) -> Iterator[Span]:
    if "@" in text:
        yield from (m.span() for m in _EMAIL_PLAIN.finditer(text))
    low = text.lower()
    if " at" in low or "at " in low or "arroba" in low or "(at" in low or "[at" in low:
        yield from (m.span() for m in _EMAIL_OBFUSCATED.finditer(text))


# -- phone numbers -----------------------------------------------------------------------------
#: a loose run that may be a North American number; libphonenumber decides
_PHONE_CANDIDATE = re.compile(r"(?:\+\s?1[\s.-]?)?\(?\d{3}\)?[\s.-]{0,2}\d{3}[\s.-]?\d{4}(?!\d)")
#: a 7-digit local number, taken only after a phone cue
_PHONE_CUE = {
    "en": r"phone|cell|tel|telephone|call|text|number|mobile|voicemail|reach(?:ed)?",
    "es": r"tel[eé]fono|tel|celular|cel|n[uú]mero|llamar|mensaje|whatsapp",
}
PHONE_LENIENCY = phonenumbers.Leniency.VALID


@functools.cache
def _local_phone(languages: frozenset[str]) -> re.Pattern[str]:
    cues = "|".join(_PHONE_CUE[lang] for lang in sorted(languages))
    return re.compile(
        rf"\b(?:{cues})\b[^\d\n]{{0,12}}(?<![\d-])(\d{{3}}[\s.-]\d{{4}})(?![\d-])", re.IGNORECASE
    )


def _phone(text: str, languages: frozenset[str]) -> Iterator[Span]:
    for m in _PHONE_CANDIDATE.finditer(text):
        start = max(0, m.start() - 1)
        window = text[start : m.end() + 1]
        for found in phonenumbers.PhoneNumberMatcher(window, "US", leniency=PHONE_LENIENCY):
            yield start + found.start, start + found.end
    for m in _local_phone(languages).finditer(text):
        yield m.span(1)


# -- social security and tax numbers -----------------------------------------------------------
_NINE = re.compile(r"(?<![\w-])(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\w-])")
_SSN_CUE = {
    "en": r"ssn|ss#|soc(?:ial)?(?: sec(?:urity)?)?(?: (?:number|no\.?|#))?",
    "es": r"seguro social|n[uú]mero de seguro|nss",
}
_ITIN_GROUPS = frozenset({*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)})


@functools.cache
def _cue_before(words: str) -> re.Pattern[str]:
    """A cue ending within a few characters before the end of the text it is matched on."""
    return re.compile(rf"\b(?:{words})\b[^.;\n\d]{{0,25}}$", re.IGNORECASE)


def _medicaid_cue(languages: frozenset[str]) -> re.Pattern[str]:
    return _cue_before("|".join(_MEDICAID_CUE[lang] for lang in sorted(languages)))


@functools.lru_cache(maxsize=64)
def _nine_digit(text: str, languages: frozenset[str]) -> tuple[tuple[str, Span], ...]:
    return tuple(_nine_digit_run(text, languages))


def _nine_digit_run(text: str, languages: frozenset[str]) -> Iterator[tuple[str, Span]]:
    """Nine-digit numbers: an SSN or an ITIN by shape or cue (a Medicaid cue takes them)."""
    ssn_cue = _cue_before("|".join(_SSN_CUE[lang] for lang in sorted(languages)))
    for m in _NINE.finditer(text):
        area, sep, group, serial = m.group(1), m.group(2), m.group(3), m.group(4)
        before = text[max(0, m.start() - 40) : m.start()]
        if _medicaid_cue(languages).search(before) or _case_cue_any(languages).search(before):
            continue
        cued = ssn_cue.search(before) is not None
        if "itin" in before.lower() or (area[0] == "9" and not cued):
            if "itin" in before.lower() or int(group) in _ITIN_GROUPS:
                yield "itin", m.span()
            continue
        shaped = area not in ("000", "666") and group != "00" and serial != "0000"
        if cued or (shaped and (sep or not _digit_context(text, m.start(), m.end()))):
            yield "ssn", m.span()


def _digit_context(text: str, start: int, end: int) -> bool:
    """Whether a bare digit run sits among other numbers or codes (a count, a grant number)."""
    return text[max(0, start - 1) : start] in ("#", "$") or text[end : end + 1] in ("%",)


#: the last four digits of an SSN: "SSN ending in 6789", "últimos 4 del seguro social: 1234"
_SSN_TAIL = re.compile(
    r"\b(?:ssn|social security(?: number)?|seguro social)\b[^.;\n\d]{0,20}?"
    r"(?:ending(?: in)?|last (?:4|four)(?: digits)?|termina(?: en)?|[uú]ltimos (?:4|cuatro))"
    r"[^.;\n\d]{0,10}(\d{4})(?!\d)",
    re.IGNORECASE,
)


def _ssn(text: str, languages: frozenset[str]) -> Iterator[Span]:
    yield from (span for kind, span in _nine_digit(text, languages) if kind == "ssn")
    yield from (m.span(1) for m in _SSN_TAIL.finditer(text))


def _itin(text: str, languages: frozenset[str]) -> Iterator[Span]:
    return (span for kind, span in _nine_digit(text, languages) if kind == "itin")


# -- identifying numbers after a cue: Medicaid, case, record -----------------------------------
_MEDICAID_CUE = {
    "en": r"medicaid|medi-cal|all kids|recipient id|member id|medical card",
    "es": r"medicaid|medi-cal|n[uú]mero de medicaid|tarjeta m[eé]dica",
}
_CASE_CUE = {
    "en": r"(?:dcfs|court|family|case ?worker'?s?)? ?case|dcfs|docket",
    "es": r"(?:n[uú]mero de )?caso|expediente judicial",
}
_RECORD_CUE = {
    "en": r"mrn|medical record|record|chart|patient|client|student|child|member|participant|"
    r"file|ei|early intervention",
    "es": r"expediente(?: m[eé]dico)?|historia cl[ií]nica|registro m[eé]dico|estudiante",
}


def _case_cue_any(languages: frozenset[str]) -> re.Pattern[str]:
    return _cue_before("|".join(_CASE_CUE[lang] for lang in sorted(languages)))


#: a token that may be an identifying number: letters, digits and dashes, with a digit
_NUMBER = re.compile(r"(?<![\w-])[A-Za-z]{0,3}-?\d[\dA-Za-z-]{3,}(?![\w-])")
#: how a cue is joined to its number: "Medicaid ID: 123", "case no. 4", "número de caso 5"
_LINK = r"[\s:#.,]*(?:(?:id|no|num|number|n[uú]mero|nro|#|is|es|of|de|:)(?!\w)[\s:#.]*){0,3}"
#: a generic record cue must be joined by an id word or sign ("student ID", "chart #"):
#: "child 4" or "file 2" are counts, not records
_RECORD_LINK = r"[\s:]*(?:id|no\.?|num(?:ber)?|n[uú]mero|#)[\s:#.]*"
_SPECIFIC_RECORD_CUE = (
    r"mrn|medical record|record number|expediente(?: m[eé]dico)?|historia cl[ií]nica|"
    r"registro m[eé]dico"
)


@functools.lru_cache(maxsize=64)
def _numbers(text: str) -> tuple[Span, ...]:
    """The spans of tokens with at least four digits: what a cued detector looks before."""
    return tuple(
        m.span()
        for m in _NUMBER.finditer(text)
        if sum(c.isdigit() for c in m.group()) >= 4 and not _YEAR.fullmatch(m.group())
    )


#: a year is no identifying number ("in case 2025 funding is cut")
_YEAR = re.compile(r"(?:19|20)\d\d")


@functools.cache
def _cue_link(cues: str, link: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{cues})\b{link}$", re.IGNORECASE)


def _cued(
    table: dict[str, str], link: str = _LINK, also: str | None = None
) -> Callable[[str, frozenset[str]], Iterator[Span]]:
    """A detector of numbers right after one of the cue words of ``table`` (per language),
    or after one of ``also`` (any language) with an optional link."""

    def find(text: str, languages: frozenset[str]) -> Iterator[Span]:
        spans = _numbers(text)
        if not spans:
            return
        patterns = [_cue_link("|".join(table[lang] for lang in sorted(languages)), link)]
        if also is not None:
            patterns.append(_cue_link(also, r"[\s:#.]*(?:no\.?|number|n[uú]mero|#)?[\s:#]*"))
        for start, end in spans:
            if any(p.search(text, max(0, start - 45), start) for p in patterns):
                yield start, end

    return find


_medicaid = _cued(_MEDICAID_CUE)
_case = _cued(_CASE_CUE)
_record_words = _cued(_RECORD_CUE, _RECORD_LINK, also=_SPECIFIC_RECORD_CUE)
_HASH_NUMBER = re.compile(r"#\s?(\d{6,})\b")


def _record(text: str, languages: frozenset[str]) -> Iterator[Span]:
    yield from _record_words(text, languages)
    if "#" in text:
        taken = [*_medicaid(text, languages), *_case(text, languages)]
        for m in _HASH_NUMBER.finditer(text):
            if not any(s <= m.start(1) < e for s, e in taken):
                yield m.span(1)


# -- dates of birth ----------------------------------------------------------------------------
_MONTHS_EN = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTHS_ES = (
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|sept?iembre|octubre|noviembre|diciembre"
)
_NUMERIC_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?|(?:19|20)\d\d\b"
_DOB_CUE = {
    "en": r"born|d\.?o\.?b\.?|date of birth|birth ?date|birthday|bday|b\.",
    "es": r"fecha de nac(?:imiento|\.)?|f\. ?de nac\.?|naci[oó]|nacid[oa]|cumplea[nñ]os",
}
_DOB_LINK = {
    "en": r"on|in|is|was|of|date|:|-|,",
    "es": r"el|en|es|fue|del|:|-|,",
}


@functools.cache
def _dob_pattern(languages: frozenset[str]) -> re.Pattern[str]:
    cues = "|".join(_DOB_CUE[lang] for lang in sorted(languages))
    links = "|".join(_DOB_LINK[lang] for lang in sorted(languages))
    months = "|".join({"en": _MONTHS_EN, "es": _MONTHS_ES}[lang] for lang in sorted(languages))
    date = (
        rf"(?:{_NUMERIC_DATE}"
        rf"|(?:{months})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
        rf"|(?:{months})\.?\s+(?:de\s+)?\d{{4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+|of\s+)?(?:{months})\b(?:,?\s+(?:de\s+)?\d{{4}})?)"
    )
    return re.compile(
        rf"(?<![\w.])(?:{cues})(?!\w)(?:\s*(?:{links})(?!\w))*[^.;!?\n\d]{{0,30}}?(?<!\w)({date})",
        re.IGNORECASE,
    )


#: a lower-cased text without any of these holds no date-of-birth cue
_DOB_STEMS = ("born", "dob", "d.o.b", "birth", "bday", "b.", "naci", "cumplea", "nac.")


def _date_of_birth(text: str, languages: frozenset[str]) -> Iterator[Span]:
    low = text.lower()
    if text.isascii() and not any(stem in low for stem in _DOB_STEMS):
        return
    for m in _dob_pattern(languages).finditer(text):
        yield m.start(), m.end(1)


# -- street addresses and post-office boxes ----------------------------------------------------
_SUFFIX = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|trail|trl|square|sq|broadway"
)
_ADDRESS_EN = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+|(?i:north|south|east|west)\s+)?"
    r"(?:(?:[A-Z][\w'-]*|\d+(?:st|nd|rd|th))\.?\s+){0,3}"
    rf"(?:(?i:{_SUFFIX})\b\.?|Broadway\b)"
)
_BOX_EN = re.compile(r"\b(?:p\.?\s?o\.?\s*box|post office box|box)\s*#?\s*\d+", re.IGNORECASE)
_UNIT_EN = re.compile(r"\b(?:apt|apartment|unit)\.?\s*#?\s*\d+[a-z]?\b", re.IGNORECASE)
_ADDRESS_ES = re.compile(
    r"\b(?i:calle|c/|avenida|avda\.?|av\.|paseo|camino|carretera|privada|callej[oó]n|calzada|"
    r"bulevar|boulevard|cerrada|andador)\s+"
    r"(?:(?:de|del|la|las|los|el)\s+)?(?:[A-ZÁÉÍÓÚÑ][\w'.-]*\s+|\d{1,2}\s+(?:de\s+)?[A-ZÁÉÍÓÚÑ]\w*\s+)"
    r"(?:(?:[A-ZÁÉÍÓÚÑ][\w'.-]*|\d{1,2}|de|del|la|las|los|el)\s+){0,4}"
    r"(?:n[uú]m\.?\s*|#\s*)?\d{1,5}\b"
)
_BOX_ES = re.compile(r"\b(?:apartado postal|apdo\.?|casilla postal)\s*#?\s*\d+", re.IGNORECASE)


_ES_STREET_WORDS = (
    "calle", "c/", "avenida", "avda", "av.", "paseo", "camino", "carretera", "privada",
    "callej", "calzada", "bulevar", "boulevard", "cerrada", "andador",
)  # fmt: skip


def _address(text: str, languages: frozenset[str]) -> Iterator[Span]:
    yield from (m.span() for m in _ADDRESS_EN.finditer(text))
    low = text.lower()
    if "en" in languages and "box" in low:
        for m in _BOX_EN.finditer(text):
            if m.group().lower().startswith("box") and not _BOX_CONTEXT.search(text):
                continue
            yield m.span()
    if "en" in languages and ("apt" in low or "apartment" in low or "unit" in low):
        yield from (m.span() for m in _UNIT_EN.finditer(text))
    if "es" in languages and any(w in low for w in _ES_STREET_WORDS):
        yield from (m.span() for m in _ADDRESS_ES.finditer(text))
    if "es" in languages and ("apartado" in low or "apdo" in low or "casilla" in low):
        yield from (m.span() for m in _BOX_ES.finditer(text))


_BOX_CONTEXT = re.compile(r"\b(?:mail|send|address|rural route|rr)\b", re.IGNORECASE)
