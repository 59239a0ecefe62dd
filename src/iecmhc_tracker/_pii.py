"""Screening of free-text notes for personal data.

The tracker asks for no personally identifying data; a consultant's reflective note is the one
place it could slip in. The screen is a set of small detectors, one per kind of data, each a
named callable that returns the character spans it finds. A hit is reported by kind and span
only, never echoing what matched.

Detectors build on maintained tools where they exist: phone numbers are confirmed by
``phonenumbers`` (Google's libphonenumber); names are looked up in a gazetteer of US first
names (Social Security Administration baby-name counts) and surnames (US Census 1990), both
public domain and shipped in ``data/``, and are taken as names only in a context that says so
(a title, a kinship or role word, a possessive, "named", a first name with a surname). Cue
words come in the languages a profile lists (English and Spanish today).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from importlib import resources
from typing import NamedTuple

import attrs
import phonenumbers

#: the languages whose cue words the screen knows
LANGUAGES: tuple[str, ...] = ("en", "es")

Span = tuple[int, int]


@attrs.frozen(slots=True)
class Detector:
    """One kind of personal data: ``find(text, languages)`` yields the spans that hold it."""

    kind: str
    label: str
    find: Callable[[str, frozenset[str]], Iterable[Span]] = attrs.field(repr=False)
    #: the fewest digits a text has where ``find`` can find anything (a cheap pre-check)
    min_digits: int = 0

    def __call__(self, text: str, languages: frozenset[str]) -> list[Span]:
        return sorted(set(self.find(text, languages)))


@attrs.frozen(slots=True)
class Hit:
    """What the screen found of one kind: where, as ``[start, end)`` character spans."""

    kind: str
    label: str
    spans: tuple[Span, ...]

    def where(self) -> str:
        """The spans in words, counting characters from 1: "at characters 24–35"."""
        parts = [f"{s + 1}–{e}" for s, e in self.spans[:3]]
        more = f" and {len(self.spans) - 3} more" if len(self.spans) > 3 else ""
        return f"at character{'s' if parts else ''} {', '.join(parts)}{more}"


def _fold(word: str) -> str:
    """Lower case, accents removed: how names are looked up (José and Jose alike)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- e-mail ------------------------------------------------------------------------------------
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- names -------------------------------------------------------------------------------------
def _lines(name: str) -> list[str]:
    ref = resources.files("iecmhc_tracker") / "data" / name
    return ref.read_text(encoding="ascii").splitlines()


#: a first name given to this many US babies since 1940 is trusted alone at a sentence start
POPULAR = 20000


@functools.cache
def _first_counts() -> dict[str, int]:
    return {
        name: int(count) for name, count in (line.split() for line in _lines("first_names.txt"))
    }


@functools.cache
def first_names() -> frozenset[str]:
    """US first names (SSA baby-name counts since 1940, at least 1000 babies), folded."""
    return frozenset(_first_counts())


@functools.cache
def popular_first_names() -> frozenset[str]:
    """The first names given to at least :data:`POPULAR` babies since 1940."""
    return frozenset(n for n, count in _first_counts().items() if count >= POPULAR)


@functools.cache
def surnames() -> frozenset[str]:
    """The 40,000 most frequent US surnames of the 1990 Census, folded."""
    return frozenset(_lines("surnames.txt"))


#: words that are names in the gazetteer but mostly mean something else in a note: a bare or
#: paired one is no name (after a title or a kinship word it still is)
_COMMON = {
    "en": _words(
        """
        will may june april august january march an al dan ever han le les my sean van
        grace hope joy faith mark bill art summer autumn winter spring river sky star angel
        king major justice trinity story rose lily daisy ruby amber crystal dawn eve sunny
        honey precious destiny harmony melody serenity journey legend royal rich chance guy
        jack jean gene pat sue ray rob don dean frank earnest miles price chase hunter cooper
        brook brooke bay lane dale glen cliff wade reed rusty buddy pearl jewel diamond
        heaven nova luna sunshine rainbow lake grant early head start young love hall day
        days park street stream page bell ball rice child baby mother father sister brother
        teacher christian
        england english spanish america american lincoln jordan paris lake hill rock stone
        wood woods green brown white black gray grey gold silver penny nickel sterling
        countess duke earl prince princess queen judge bishop deacon pastor elder sage
        ivy holly hazel olive violet iris jade clay bud birdie scout ranger forest
        cash price rich worth noble bright happy merry kind true arch sonny tiny
        in is it if of on or to the and a be do go no so up us we me he she
        monday tuesday wednesday thursday friday saturday sunday february july september
        october november december jr sr
        """
    ),
    "es": _words(
        """
        lunes martes miercoles jueves viernes sabado domingo enero febrero marzo abril mayo
        junio julio agosto septiembre setiembre octubre noviembre diciembre
        la el las los de del dia ella era esta casi nada sera tal una al le les si sol
        luz paz mar cruz rocio dolores pilar mercedes consuelo amparo soledad esperanza
        trinidad concepcion asuncion angeles guadalupe santos reyes blanca rosario alba
        nino nina mama papa tia tio semana salon plaza calle programa condado senora
        en es y o a un su mi tu yo lo se con por para sin ya
        """
    ),
}
#: capitalised words that start a sentence or a heading and are no name there
_TITLES = {
    "en": ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "mister", "missus", "coach", "nurse"),
    "es": ("sr", "sra", "srta", "don", "dona", "senor", "senora", "senorita", "dr", "dra", "lic"),
}
_KIN = {
    "en": _words(
        """
        daughter son child kid boy girl baby infant toddler preschooler brother sister sibling
        twin mom mommy mother mama dad daddy father papa parent grandmother grandma granny
        grandfather grandpa grandparent grandson granddaughter aunt auntie uncle cousin nephew
        niece stepmother stepfather stepmom stepdad stepson stepdaughter foster guardian
        caregiver teacher assistant aide director provider nurse caseworker therapist
        student friend peer classmate neighbor husband wife partner boyfriend girlfriend
        coordinator supervisor cook driver principal doctor pediatrician worker
        """
    ),
    "es": _words(
        """
        hija hijo nino nina bebe hermano hermana hermanito hermanita mama madre papa padre
        abuela abuelo abuelita abuelito tia tio prima primo sobrino sobrina madrastra padrastro
        maestra maestro directora director asistente cuidadora cuidador enfermera enfermero
        trabajadora trabajador terapeuta amiga amigo companero companera esposo esposa pareja
        nieto nieta tutor tutora senora senor doctora doctor coordinadora coordinador
        """
    ),
}
_CALENDAR = _words(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday enero febrero marzo abril mayo
    junio julio agosto septiembre setiembre octubre noviembre diciembre lunes martes
    miercoles jueves viernes sabado domingo
    """
)
_MONTH_ABBREVIATIONS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "ene",
        "abr",
        "ago",
        "dic",
    ]
)
_DAY_AFTER = re.compile(r"\.?\s*\d")
#: titles that are no other word, so need no dot
_BARE_TITLES = _words("mr mrs ms mx miss mister missus sra srta senor senora senorita")
#: words allowed between a kinship word and the name: "daughter, Emma", "mamá de Sofía"
_GAP = {
    "en": _words("named called is was name her his their our the a"),
    "es": _words("de del se llama llamado llamada es su la el nombre"),
}
#: words allowed between a name and its role: "Tamika, the lead teacher"
_ROLE_GAP = _words("the a la el su her his my our lead main")
_NAMING = {
    "en": r"\b(?:named|name is|goes by|known as)\s+",
    "es": r"\b(?:se llama|llamad[oa]|nombre es|le dicen)\s+",
}
#: themes, characters, programs and places that look like names
STOP_PHRASES: tuple[str, ...] = (
    "dr. seuss", "mr. rogers", "mister rogers", "fred rogers",
    "head start", "sesame street", "plaza sésamo", "plaza sesamo", "daniel tiger",
    "daniel tigre", "cookie monster", "pete the cat", "curious george", "jorge el curioso",
    "tucker turtle", "tortuga tucker", "martin luther king", "simon says", "simón dice",
    "winnie the pooh", "peppa pig", "paw patrol", "baby shark", "big bird", "mickey mouse",
    "minnie mouse", "elmo", "clifford", "bluey", "thomas the tank engine", "llama llama",
    "brown bear", "mother goose", "santa claus", "ms. rachel", "miss rachel", "mr. potato head",
    "miss rumphius", "frog and toad", "max and ruby", "george and martha", "amelia bedelia",
    "arthur", "franklin", "caillou", "dora", "elsa", "moana", "raising a reader",
    "zero to three", "brazelton", "devereux", "conscious discipline", "second step",
    "teacher appreciation", "mother's day", "father's day", "valentine's day",
    "presidents' day", "st. patrick", "saint patrick", "día de los muertos", "dia de los muertos",
    "día del niño", "semana del niño", "lincoln park", "oak park", "orland park", "tinley park",
    "carol stream", "elk grove", "mount prospect", "arlington heights", "des plaines",
    "rock island", "st. louis", "st. clair", "st. charles", "la salle", "lasalle",
    "los angeles", "san diego", "san francisco", "san joaquin", "santa clara", "santa cruz",
    "santa barbara", "san mateo", "san bernardino", "san luis obispo", "el dorado",
    "great falls", "miles city", "big horn", "golden valley", "deer lodge",
    "jackson county", "jackson park", "washington park", "grant park", "marshall field",
)  # fmt: skip


def _phrase(phrase: str) -> str:
    """A stop phrase as a pattern: any spacing, a title's dot optional ("Dr Seuss")."""
    words = [
        re.escape(w.rstrip(".")).replace("'", "['’]") + (r"\.?" if w.endswith(".") else "")
        for w in phrase.split()
    ]
    return r"(?<!\w)" + r"\s*".join(words) + r"(?!\w)"


class _Phrases:
    """Phrases found fast: a phrase is tried only where a word starts that may begin it."""

    def __init__(self, phrases: Iterable[str]) -> None:
        by_first: dict[str, list[str]] = {}
        for p in phrases:
            first = _fold(p.split()[0].rstrip("."))
            first = first[:-2] if first.endswith("'s") else first.rstrip("'")
            by_first.setdefault(first, []).append(p)
        self.by_first = {
            first: re.compile(
                "|".join(_phrase(p) for p in sorted(group, key=len, reverse=True)), re.IGNORECASE
            )
            for first, group in by_first.items()
        }

    def spans(self, text: str, tokens: Sequence[_Token]) -> list[Span]:
        out: list[Span] = []
        for t in tokens:
            pattern = self.by_first.get(t.key)
            if pattern is not None and (m := pattern.match(text, t.start)):
                out.append(m.span())
        return out


_STOP = _Phrases(STOP_PHRASES)
#: a word after a capitalised pair that makes it a place or an organisation
_PLACE_AFTER = _words(
    """
    county park zoo school elementary center centre academy church hospital clinic library
    street avenue road program programs site university college district township village city
    heights hills grove lake river institute foundation hall building campus house
    condado escuela centro programa parque iglesia clinica hospital
    room classroom class group team club corner time week day salon grupo equipo
    office offices department station store branch location headquarters facility sites
    oficina oficinas sede
    """
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*\.?")
_SENTENCE_MARKS = frozenset('.!?:;\n•-–—("“')


class _Token(NamedTuple):
    start: int
    end: int
    text: str  # without a possessive 's or a final dot
    key: str  # folded
    capital: bool
    possessive: bool
    dotted: bool
    initial: bool  # first of the text or of a sentence, clause or list item


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    append = out.append
    for m in _WORD.finditer(text):
        word = m.group()
        start = m.start()
        dotted = word[-1] == "."
        if dotted:
            word = word[:-1]
        possessive = False
        if "'" in word or "’" in word:
            possessive = word[-2:] in ("'s", "’s")
            word = word[:-2] if possessive else word.rstrip("'’")
            if not word:
                continue
        key = word.lower() if word.isascii() else _fold(word)
        if not word[0].isupper():
            append(_Token(start, start + len(word), word, key, False, possessive, dotted, False))
            continue
        capital = len(word) == 1 or not word.isupper()
        before = text[max(0, start - 4) : start].rstrip()
        initial = not before or before[-1] in _SENTENCE_MARKS
        append(_Token(start, start + len(word), word, key, capital, possessive, dotted, initial))
    return out


class _Names:
    """The name detector, for some languages, with place names (a profile's counties) that a
    lone capitalised word or a pair is not taken for a person by ("Logan and Henry counties";
    "her son Logan" still is a name)."""

    def __init__(self, languages: frozenset[str], places: Collection[str]) -> None:
        self.first = first_names()
        self.popular = popular_first_names()
        self.last = surnames()
        self.common = frozenset().union(*(_COMMON[lang] for lang in languages))
        self.titles = frozenset().union(*(_TITLES[lang] for lang in languages))
        self.kin = frozenset().union(*(_KIN[lang] for lang in languages))
        self.gap = frozenset().union(*(_GAP[lang] for lang in languages))
        self.naming = re.compile(
            "|".join(f"(?:{_NAMING[lang]})" for lang in sorted(languages)), re.IGNORECASE
        )
        self.places = frozenset(_fold(p) for p in places if " " not in p.strip())
        phrases = sorted({p.strip() for p in places if " " in p.strip()}, key=len, reverse=True)
        self.place_phrases = _Phrases(phrases)

    def name_like(self, t: _Token) -> bool:
        return t.capital and (t.key in self.first or t.key in self.last) and t.key not in _CALENDAR

    def strong_first(self, t: _Token) -> bool:
        return (
            t.capital
            and t.key in self.first
            and t.key not in self.common
            and t.key not in _CALENDAR
        )

    def lone_first(self, t: _Token) -> bool:
        """A first name that may stand without context: not also a place of the profile."""
        return self.strong_first(t) and t.key not in self.places

    def __call__(self, text: str) -> Iterator[Span]:
        tokens = _tokens(text)
        stopped = _STOP.spans(text, tokens) + self.place_phrases.spans(text, tokens)
        if stopped:
            tokens = [t for t in tokens if not any(s <= t.start < e for s, e in stopped)]
        named = {m.end() for m in self.naming.finditer(text)}
        skip_to = 0
        for i, t in enumerate(tokens):
            if i < skip_to or not t.capital or self._place_precedes(tokens, i):
                continue
            if self._is_name(tokens, i, text, named):
                last = self._extent(tokens, i)
                skip_to = last + 1
                yield t.start, tokens[last].end

    def _is_name(self, tokens: Sequence[_Token], i: int, text: str, named: set[int]) -> bool:
        """Whether the capitalised token ``i`` is a person's name (by the first rule that
        says so)."""
        t = tokens[i]
        if t.key in _MONTH_ABBREVIATIONS and _DAY_AFTER.match(text, t.end):
            return False  # "Jan 1", "Dec. 3": a date
        prev = tokens[i - 1] if i else None
        if prev is not None and prev.end + 3 >= t.start and self._titled(prev, t):
            return True
        if t.start in named and t.key not in self.kin:
            return True
        if self.name_like(t) and self._after_kin(tokens, i, text):
            return True
        if self._family(tokens, i) or (t.possessive and self.strong_first(t)):
            return True
        if (
            t.possessive
            and self.name_like(t)
            and i + 1 < len(tokens)
            and tokens[i + 1].key in self.kin
        ):
            return True  # "Destiny's grandmother": even a name that is also a word
        if self.lone_first(t) and self._surname_follows(tokens, i):
            return True
        if self.lone_first(t) and self._bare_ok(tokens, i, text):
            return True
        return self.name_like(t) and self._kin_follows(tokens, i, text)

    def _surname_follows(self, tokens: Sequence[_Token], i: int) -> bool:
        """ "Rosa Delgado": a surname right after, and no place word after that."""
        if i + 1 >= len(tokens):
            return False
        nxt = tokens[i + 1]
        return (
            nxt.capital
            and nxt.start - tokens[i].end <= 1
            and not tokens[i].possessive
            and nxt.key in self.last
            and nxt.key not in self.common
            and nxt.key not in _PLACE_AFTER
            and not self._place_follows(tokens, i + 1)
        )

    def _extent(self, tokens: Sequence[_Token], i: int) -> int:
        """The last token of the name starting at ``i``: its surnames ("Rosa Delgado Ruiz")."""
        j = i
        while (
            j + 1 < len(tokens)
            and not tokens[j].possessive
            and tokens[j + 1].capital
            and tokens[j + 1].start - tokens[j].end <= 1
            and (tokens[j + 1].key in self.last or tokens[j + 1].key in self.first)
            and tokens[j + 1].key not in _PLACE_AFTER
            and tokens[j + 1].key not in self.common
        ):
            j += 1
        return j

    def _family(self, tokens: Sequence[_Token], i: int) -> bool:
        """ "the Garcias", "the Thompson family", "la familia Pérez": a family by its surname."""
        t = tokens[i]
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if prev is not None and prev.key in ("familia", "family", "los") and t.key in self.last:
            return t.key not in self.common and t.key not in _PLACE_AFTER
        if prev is None or prev.key != "the" or t.key in self.common:
            return False
        if (
            nxt is not None
            and nxt.key in ("family", "families", "household")
            and t.key in self.last
        ):
            return True
        return t.key.endswith("s") and t.key[:-1] in self.last and t.key[:-1] not in self.common

    def _titled(self, title: _Token, t: _Token) -> bool:
        """ "Mrs. Patel", "Ms Tran", "Sra. Gómez": a title before a capitalised word."""
        if title.key not in self.titles or t.key in self.kin:
            return False
        if title.dotted or title.key in _BARE_TITLES:
            return title.key != "miss" or title.capital
        return self.name_like(t)  # "Dr" or "Prof" without a dot: only before a known name

    def _after_kin(self, tokens: Sequence[_Token], i: int, text: str) -> bool:
        """A kinship or role word shortly before, with only gap words between."""
        j = i - 1
        while j >= 0 and i - j <= 4:
            t = tokens[j]
            between = text[t.end : tokens[j + 1].start]
            if any(c in between for c in ".;!?\n"):
                return False
            if t.key in self.kin and not t.possessive:
                return True
            if t.key not in self.gap:
                return False
            j -= 1
        return False

    def _kin_follows(self, tokens: Sequence[_Token], i: int, text: str) -> bool:
        """ "Tamika, the teacher" / "Carmen Ruiz, la abuela": a name then its role."""
        k = i + 1
        if k < len(tokens) and tokens[k].capital and tokens[k].key in self.last:
            k += 1
        if k >= len(tokens):
            return False
        between = text[tokens[k - 1].end : tokens[k].start]
        if "," not in between and "(" not in between:
            return False
        for t in tokens[k : k + 3]:
            if t.key in self.kin:
                return True
            if t.key not in (
                "the",
                "a",
                "la",
                "el",
                "su",
                "her",
                "his",
                "my",
                "our",
                "lead",
                "main",
            ):
                return False
        return False

    def _place_precedes(self, tokens: Sequence[_Token], i: int) -> bool:
        """ "condado de Will", "county of Lake", "city of Aurora": a place's name."""
        return i >= 2 and tokens[i - 1].key in ("de", "of") and tokens[i - 2].key in _PLACE_AFTER

    def _place_follows(self, tokens: Sequence[_Token], i: int) -> bool:
        return i + 1 < len(tokens) and tokens[i + 1].key in _PLACE_AFTER

    def _bare_ok(self, tokens: Sequence[_Token], i: int, text: str) -> bool:
        """A lone first name, taken where it acts like a person's name: not part of a longer
        capitalised phrase (a program, a place, a title) and not before a place word."""
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = tokens[i - 1] if i else None
        if nxt is not None and nxt.capital and nxt.start - t.end <= 1:
            return False
        if prev is not None and prev.capital and t.start - prev.end <= 1 and not prev.initial:
            return False
        if t.initial and t.key not in self.popular:
            return False  # "Infant room …", "Case consultation …": a word before a name
        return not self._place_follows(tokens, i)


# -- the screen --------------------------------------------------------------------------------
class Screen:
    """The detectors for a set of languages, knowing a profile's place names (its counties)."""

    def __init__(self, languages: Iterable[str] = LANGUAGES, places: Collection[str] = ()) -> None:
        langs = frozenset(languages)
        unknown = langs - set(LANGUAGES)
        if unknown or not langs:
            raise ValueError(f"unknown note languages {sorted(unknown)}; known: {LANGUAGES}")
        self.languages = langs
        names = _Names(langs, places)
        self.detectors: tuple[Detector, ...] = (
            Detector("email", "an e-mail address", _email),
            Detector("phone", "a phone number", _phone, min_digits=7),
            Detector("ssn", "a social security number", _ssn, min_digits=4),
            Detector("itin", "a taxpayer identification number (ITIN)", _itin, min_digits=9),
            Detector("medicaid_id", "a Medicaid number", _medicaid, min_digits=4),
            Detector("case_number", "a case number", _case, min_digits=4),
            Detector("record_number", "a record or ID number", _record, min_digits=4),
            Detector("date_of_birth", "a date of birth", _date_of_birth, min_digits=1),
            Detector("address", "a street address or post-office box", _address, min_digits=1),
            Detector("name", "a person's name", lambda text, _langs: names(text)),
        )

    def __call__(self, text: str) -> list[Hit]:
        """What the detectors find in ``text``: one hit per kind, in a fixed order."""
        hits: list[Hit] = []
        digits = sum(map(str.isdigit, text))
        for d in self.detectors:
            if digits < d.min_digits:
                continue
            spans = d(text, self.languages)
            if spans:
                hits.append(Hit(d.kind, d.label, tuple(spans)))
        return hits


KINDS: tuple[str, ...] = tuple(d.kind for d in Screen().detectors)


@functools.cache
def _default(languages: frozenset[str]) -> Screen:
    from ._profile import SHIPPED, load_profile  # local: profiles import the language list

    places = {c.label for name in SHIPPED for c in load_profile(name).counties}
    return Screen(languages, places)


def screen(text: str, languages: Iterable[str] = LANGUAGES) -> list[Hit]:
    """The personal data ``text`` seems to hold, by kind, with where each was found (the
    shipped profiles' county names count as places). Validation uses a profile's
    own :class:`Screen` (its note languages and counties)."""
    return _default(frozenset(languages))(text)
