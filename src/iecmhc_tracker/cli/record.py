"""``iecmhc record``: enter one activity, validated field by field as it is typed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from .._errors import TrackerError, ValidationError
from .._profile import Profile
from .._validate import field_problems
from .common import DEFAULT_DB, DbOption, ProfileOption, console, err, fail, open_tracker

LIST_FIELDS = ("methods", "competencies")
OPTIONAL = (
    "program", "setting", "consultation_type", "tier", "modality", "format", "methods",
    "competencies", "hours", "minutes", "children_benefiting", "staff_influenced", "families",
    "participants", "rated_worthwhile", "referrals", "recommended_consultation", "language",
    "note",
)  # fmt: skip


def _parse(field: str, text: str) -> Any:
    """Turn typed text into the value the model reads (lists, referral pairs)."""
    text = text.strip()
    if field in LIST_FIELDS:
        return [v.strip() for v in text.split(",") if v.strip()]
    if field == "referrals":
        pairs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            code, _, count = part.partition(":")
            pairs[code.strip()] = count.strip() or "1"
        return pairs
    return text


def _applies(profile: Profile, kind: str, field: str) -> bool:
    spec = profile.kinds.get(kind)
    if spec is not None and field in spec.forbidden:
        return False
    coded = field in ("setting", "consultation_type", "tier", "modality", "format", "language")
    if (coded or field in LIST_FIELDS) and not profile.code_set(field):
        return False
    return not (field == "referrals" and not profile.code_set("resource_type"))


def _ask(profile: Profile, field: str, answers: dict[str, Any], required: bool) -> None:
    codes = sorted(profile.code_set("resource_type" if field == "referrals" else field))
    hint = f" [{', '.join(codes[:8])}{' …' if len(codes) > 8 else ''}]" if codes else ""
    while True:
        text = typer.prompt(
            f"{field}{hint}{'' if required else ' (optional)'}",
            default="" if not required else None,
            show_default=False,
        )
        if not text.strip():
            if required:
                err.print(f"  {field} is required")
                continue
            return
        value = _parse(field, text)
        found = field_problems(profile, field, value, answers)
        if not found:
            answers[field] = value
            return
        for p in found:
            err.print(f"  {p.message}", highlight=False, markup=False)


def record(
    consultant: Annotated[str | None, typer.Option(help="Your consultant id")] = None,
    from_json: Annotated[
        str | None, typer.Option("--json", help="The whole activity as a JSON object")
    ] = None,
    db: DbOption = DEFAULT_DB,
    profile: ProfileOption = "illinois",
) -> None:
    """Record one activity: prompts for each field and checks it as you type."""
    with open_tracker(db, profile) as tracker:
        prof = tracker.profile
        if from_json is not None:
            try:
                answers = json.loads(from_json)
            except json.JSONDecodeError as exc:
                raise fail(f"--json is not valid JSON: {exc.msg} at column {exc.colno}") from None
            if consultant is not None:
                answers["consultant"] = consultant
        else:
            answers = {} if consultant is None else {"consultant": consultant}
            if consultant is None:
                _ask(prof, "consultant", answers, True)
            answers["date"] = typer.prompt("date", default=dt.date.today().isoformat())
            for field in ("date", "county", "kind"):
                if field == "date" and not field_problems(prof, "date", answers["date"], answers):
                    continue
                _ask(prof, field, answers, True)
            spec = prof.kinds[answers["kind"]]
            for field in spec.required:
                if field not in answers and field not in prof.fields:
                    _ask(prof, field, answers, True)
            for field in OPTIONAL:
                if field not in answers and _applies(prof, answers["kind"], field):
                    _ask(prof, field, answers, False)
        try:
            stored = tracker.record(tracker.check(answers))
        except ValidationError as exc:
            for p in exc.problems:
                err.print(f"[red]{p.field}[/]: {p.message}", highlight=False)
            raise typer.Exit(1) from None
        except TrackerError as exc:
            raise fail(exc) from None
        console.print(f"[green]recorded[/] {stored.id} ({prof.code_label('kind', stored.kind)})")
