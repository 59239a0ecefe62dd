"""``iecmhc record``: enter one activity, each answer checked as it is typed, then reviewed.

Answers are read as people type them (``answers``): dates as 12/01/2026, 2026-12-01, today
or yesterday, echoed back spelled out; codes by code or label in any case. Every re-prompt
says why. A review screen ends the entry: a field is changed by its number, then the whole is
saved or the entry cancelled. On a terminal the coded fields complete with Tab from the
profile's whole list (prompt_toolkit); piped input is read line by line, so scripts and tests
drive it as they would any prompt.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.text import Text

from .._codematch import fold
from .._errors import TrackerError, ValidationError
from .._profile import Profile
from .._tracker import Tracker
from .._validate import field_problems
from .answers import DATE_HELP, LIST_FIELDS, choices, parse_answer, shown, spoken_date
from .common import DbOption, PrefixOption, ProfileOption, console, err, fail, open_tracker

OPTIONAL = (
    "program", "setting", "consultation_type", "tier", "modality", "format", "methods",
    "competencies", "hours", "minutes", "children_benefiting", "staff_influenced", "families",
    "participants", "rated_worthwhile", "referrals", "recommended_consultation", "language",
    "note",
)  # fmt: skip
#: a coded field with more codes than this gets a count and ``?`` instead of every code
HINT_MAX = 10
#: typed at a prompt to see every code of the field
LIST_ALL = "?"
#: typed at a prompt to clear an optional answer when changing it
CLEAR = "-"


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _completer(profile: Profile, field: str) -> Any:
    """Tab completion over a coded field's codes and labels (case-insensitive, anywhere in
    the word), or ``None`` when the field has no codes."""
    from prompt_toolkit.completion import WordCompleter

    pairs = choices(profile, field)
    if not pairs:
        return None
    # each choice once: its label, and its code only when that reads otherwise ("dupage" is
    # "DuPage", "de_witt" is "DeWitt"), so one Tab on a unique start completes it
    words = {label for _, label in pairs}
    words |= {code for code, label in pairs if fold(code) != fold(label)}
    return WordCompleter(sorted(words), ignore_case=True, match_middle=True, sentence=True)


def _read(profile: Profile, field: str, message: str, default: str) -> str:
    """One line: with completion on a terminal, else from the input as typed."""
    if _interactive():
        try:
            from prompt_toolkit import prompt
        except ImportError:  # pragma: no cover - a dependency; plain prompts still work
            pass
        else:
            shown_default = f" [{default}]" if default else ""
            text = prompt(f"{message}{shown_default}: ", completer=_completer(profile, field))
            return text or default
    return str(typer.prompt(message, default=default, show_default=bool(default)))


def _hint(profile: Profile, field: str) -> str:
    pairs = choices(profile, field)
    if not pairs:
        return ""
    if len(pairs) <= HINT_MAX:
        return f" [{', '.join(code for code, _ in pairs)}]"
    how = "Tab completes, " if _interactive() else ""
    what = "counties" if field == "county" else "codes"
    return f" ({len(pairs)} {what}: type a name or code; {how}{LIST_ALL} lists them)"


def _list_all(profile: Profile, field: str) -> None:
    names = [Text(f"{label} ({code})") for code, label in choices(profile, field)]
    err.print(Columns(names, padding=(0, 2)))


def _say(message: str) -> None:
    """A reason or an echo under the prompt: as written, never cut or re-wrapped."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)


def _typed(value: Any) -> str:
    """An answer as it would be typed again (the default when a field is changed)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}:{n}" for k, n in value.items())
    return str(value)


def _ask(
    profile: Profile, field: str, answers: dict[str, Any], required: bool, today: dt.date
) -> None:
    """Ask for one field until its answer is valid (or left empty when optional); every
    re-prompt is preceded by the reason."""
    current = answers.get(field)
    changing = field in answers
    if field == "date":
        default = "today" if current is None else _typed(current)
    else:
        default = _typed(current)
    note = ""
    if changing and not required:
        note = f" ({CLEAR} clears)"
    elif not required:
        note = " (optional)"
    while True:
        text = _read(profile, field, f"{field}{_hint(profile, field)}{note}", default).strip()
        if text == LIST_ALL and choices(profile, field):
            _list_all(profile, field)
            continue
        if not text or (text == CLEAR and not required):
            if required:
                _say(f"  {field} is required{_why_required(profile, field)}")
                continue
            answers.pop(field, None)
            return
        value = parse_answer(profile, field, text, today)
        if field == "date":
            if not isinstance(value, dt.date):
                _say(f"  {text!r} is not a date: {DATE_HELP}")
                continue
            _say(f"  → {spoken_date(value)}")
        found = field_problems(profile, field, value, answers, today)
        if not found:
            answers[field] = value
            return
        for p in found:
            _say(f"  {p.message}")


def _why_required(profile: Profile, field: str) -> str:
    if choices(profile, field):
        return f": type a name or code ({LIST_ALL} lists them)"
    return ""


def _fields(profile: Profile, answers: dict[str, Any]) -> list[tuple[str, bool]]:
    """The fields to ask, in order, with whether each is required for the answers' kind."""
    out = [("consultant", True), ("date", True), ("county", True), ("kind", True)]
    spec = profile.kinds.get(str(answers.get("kind")))
    if spec is None:
        return out
    required = [f for f in spec.required if f not in dict(out) and f not in profile.fields]
    out += [(f, True) for f in required]
    out += [(f, False) for f in OPTIONAL if f not in required and _applies(profile, spec.code, f)]
    return out


def _applies(profile: Profile, kind: str, field: str) -> bool:
    spec = profile.kinds.get(kind)
    if spec is not None and field in spec.forbidden:
        return False
    coded = field in ("setting", "consultation_type", "tier", "modality", "format", "language")
    if (coded or field in LIST_FIELDS) and not profile.code_set(field):
        return False
    return not (field == "referrals" and not profile.code_set("resource_type"))


def _complete(
    profile: Profile, answers: dict[str, Any], asked: set[str], today: dt.date
) -> list[tuple[str, bool]]:
    """Ask every field not asked yet (once the kind is known, its own fields), drop answers
    the kind does not take; returns the fields in order."""
    while True:
        fields = _fields(profile, answers)
        todo = [(f, r) for f, r in fields if f not in asked]
        if not todo:
            break
        field, required = todo[0]
        _ask(profile, field, answers, required, today)
        asked.add(field)
    names = {f for f, _ in fields}
    for field in [f for f in answers if f not in names]:
        del answers[field]
        kind = profile.code_label("kind", str(answers.get("kind")))
        _say(f"  {field} left out: {kind} does not take it")
    return fields


def _review(tracker: Tracker, answers: dict[str, Any], asked: set[str], today: dt.date) -> bool:
    """The review screen: True to save, False to cancel."""
    profile = tracker.profile
    while True:
        fields = _complete(profile, answers, asked, today)
        console.print("\n[bold]Review[/]")
        for n, (field, _) in enumerate(fields, 1):
            value = shown(profile, field, answers.get(field))
            console.print(f"  {n:>2}  {field:<26} {value}", highlight=False, markup=False)
        try:
            tracker.check(answers)
            problems: list[str] = []
        except ValidationError as exc:
            problems = [f"{p.field}: {p.message}" for p in exc.problems]
        for line in problems:
            _say(f"  ! {line}")
        choice = typer.prompt(
            f"Type a number (1-{len(fields)}) to change that field, s to save, c to cancel",
            default="c" if problems else "s",
        ).strip()
        if choice.lower() in ("s", "save"):
            if not problems:
                return True
            _say("  fix the problems above first (change a field by its number)")
        elif choice.lower() in ("c", "cancel"):
            return False
        elif choice.isdigit() and 1 <= int(choice) <= len(fields):
            field, required = fields[int(choice) - 1]
            _ask(profile, field, answers, required, today)
        else:
            _say(f"  {choice!r} is none of those: type 1-{len(fields)}, s or c")


def record(
    consultant: Annotated[str | None, typer.Option(help="Your consultant id")] = None,
    from_json: Annotated[
        str | None, typer.Option("--json", help="The whole activity as a JSON object")
    ] = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Record one activity: prompts for each field, checks it as you type, and shows the whole
    for review before saving (dates as 12/01/2026, 2026-12-01, today or yesterday; counties
    and other codes by name or code; ? at a prompt lists the choices)."""
    with open_tracker(db, profile, table_prefix, write=True) as tracker:
        prof = tracker.profile
        if from_json is not None:
            try:
                answers = json.loads(from_json)
            except json.JSONDecodeError as exc:
                raise fail(f"--json is not valid JSON: {exc.msg} at column {exc.colno}") from None
            if consultant is not None:
                answers["consultant"] = consultant
        else:
            today = dt.date.today()
            answers = {} if consultant is None else {"consultant": consultant}
            asked = set(answers)
            if not _review(tracker, answers, asked, today):
                raise fail("cancelled; nothing was recorded")
        try:
            stored = tracker.record(tracker.check(answers))
        except ValidationError as exc:
            for p in exc.problems:
                err.print(f"[red]{p.field}[/]: {p.message}", highlight=False)
            raise typer.Exit(1) from None
        except TrackerError as exc:
            raise fail(exc) from None
        console.print(f"[green]recorded[/] {stored.id} ({prof.code_label('kind', stored.kind)})")
