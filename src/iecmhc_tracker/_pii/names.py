"""The name detector: a gazetteer of first names and surnames (public-domain US lists shipped
in ``data/``) taken as names only in a context that says so."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from importlib import resources
from typing import NamedTuple

from .base import Span, _fold


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
