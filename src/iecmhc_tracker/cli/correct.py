"""Corrections: ``iecmhc amend ID --hours 2``, ``iecmhc delete ID``, ``iecmhc restore ID``.

Each acts as one consultant, named as ``iecmhc record`` names her (``--consultant``, asked for
when left out), through her view: only her own activities, and another's id is answered as an
unknown one. Exit codes: 0 done; 1 no such activity of hers (or nothing to restore); 2 a bad
value or id.
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer

from .._errors import TrackerError, ValidationError
from .._model import Activity
from .._views import ConsultantView
from .answers import DATE_HELP, parse_answer, parse_date, shown, spoken_date
from .common import (
    EXIT_USAGE,
    DbOption,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    open_tracker,
)

#: the fields ``iecmhc amend`` has an option for (``--consultation-type`` …); id and
#: consultant never change, extra fields are the profile's own
AMENDABLE = (
    "date", "county", "kind", "program", "setting", "consultation_type", "tier", "modality",
    "format", "methods", "competencies", "hours", "minutes", "children_benefiting",
    "staff_influenced", "families", "participants", "rated_worthwhile", "referrals",
    "recommended_consultation", "language", "note",
)  # fmt: skip
_HELP = {
    "date": "New date (12/01/2026, 2026-12-01, today, yesterday)",
    "methods": "New methods, comma-separated (replaces the list)",
    "competencies": "New competencies, comma-separated (replaces the list)",
    "referrals": "New referrals as type:count, comma-separated (replaces them)",
    "recommended_consultation": "yes or no",
}

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="The activity's id (a UUID)")]
ConsultantOption = Annotated[
    str | None, typer.Option(help="Your consultant id (asked for when left out)")
]


def _view(tracker: Any, consultant: str | None) -> ConsultantView:
    who = consultant if consultant is not None else typer.prompt("consultant")
    view: ConsultantView = tracker.as_consultant(who.strip())
    return view


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        message = f"{text!r} is not an activity id: ids are UUIDs, e.g. 2f1c8a8e-…"
        raise fail(message, EXIT_USAGE) from None


def _refused(exc: TrackerError) -> typer.Exit:
    """A bad value is usage (2); anything else refused — not found, nothing to restore — 1."""
    return fail(exc, EXIT_USAGE if isinstance(exc, ValidationError) else 1)


def _own(view: ConsultantView, rid: uuid.UUID) -> Activity | None:
    return next((a for a in view.activities() if a.id == rid), None)


def _amend(
    activity_id: str,
    consultant: str | None,
    clear: list[str] | None,
    db: str | None,
    table_prefix: str | None,
    profile: str | None,
    **options: str | None,
) -> None:
    rid = _uuid(activity_id)
    changes: dict[str, Any] = {}
    with open_tracker(db, profile, table_prefix) as tracker:
        prof, today = tracker.profile, dt.date.today()
        for field in clear or []:
            name = field.strip().replace("-", "_")
            if name not in AMENDABLE:
                raise fail(
                    f"--clear {field!r}: not a field amend changes; use one of "
                    f"{', '.join(AMENDABLE)}",
                    EXIT_USAGE,
                )
            changes[name] = None
        for field, text in options.items():
            if text is None:
                continue
            if field == "date" and parse_date(text, today) is None:
                raise fail(f"--date {text!r} is not a date: {DATE_HELP}", EXIT_USAGE)
            changes[field] = parse_answer(prof, field, text, today)
        if not changes:
            raise fail("name at least one change, e.g. --hours 2 (see iecmhc amend --help)", 2)
        view = _view(tracker, consultant)
        before = _own(view, rid)
        try:
            after = view.amend(rid, **changes)
        except TrackerError as exc:
            raise _refused(exc) from None
        old = before.to_dict() if before is not None else {}
        new = after.to_dict()
        moved = [
            f"{f} {shown(prof, f, old.get(f))} → {shown(prof, f, new.get(f))}"
            for f in changes
            if old.get(f) != new.get(f)
        ]
        console.print(
            f"[green]amended[/] {rid}: {'; '.join(moved) or 'nothing changed'}",
            highlight=False,
            soft_wrap=True,
        )


def _amend_command() -> Callable[..., None]:
    """``_amend`` with one ``--FIELD`` option per amendable field (typer reads the
    signature, so the options come from the one list above)."""
    params = [
        inspect.Parameter(
            "activity_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=IdArgument
        ),
        inspect.Parameter(
            "consultant", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConsultantOption
        ),
    ]
    for field in AMENDABLE:
        option = typer.Option(
            f"--{field.replace('_', '-')}", help=_HELP.get(field, f"New {field.replace('_', ' ')}")
        )
        params.append(
            inspect.Parameter(
                field,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, option],
            )
        )
    params += [
        inspect.Parameter(
            "clear",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                list[str] | None,
                typer.Option(
                    "--clear", metavar="FIELD", help="Empty an optional field (repeatable)"
                ),
            ],
        ),
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DbOption),
        inspect.Parameter(
            "table_prefix", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=PrefixOption
        ),
        inspect.Parameter(
            "profile", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ProfileOption
        ),
    ]

    def amend(activity_id: str, **kw: Any) -> None:
        """Correct one of your activities: only the fields given change, the rest are kept,
        and the whole is checked again (iecmhc amend ID --hours 2 --county lake)."""
        fixed = {k: kw.pop(k) for k in ("consultant", "clear", "db", "table_prefix", "profile")}
        _amend(activity_id, **fixed, **kw)

    amend.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return amend


amend = _amend_command()


def delete(
    activity_id: IdArgument,
    consultant: ConsultantOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Delete one of your activities: it leaves every total (iecmhc restore ID undoes it)."""
    rid = _uuid(activity_id)
    with open_tracker(db, profile, table_prefix) as tracker:
        view = _view(tracker, consultant)
        try:
            view.delete(rid)
        except TrackerError as exc:
            raise _refused(exc) from None
        console.print(
            f"[green]deleted[/] {rid} (iecmhc restore {rid} brings it back)",
            highlight=False,
            soft_wrap=True,
        )


def restore(
    activity_id: IdArgument,
    consultant: ConsultantOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Bring back one of your deleted activities, as it was."""
    rid = _uuid(activity_id)
    with open_tracker(db, profile, table_prefix) as tracker:
        view = _view(tracker, consultant)
        try:
            back = view.restore(rid)
        except TrackerError as exc:
            raise _refused(exc) from None
        what = tracker.profile.code_label("kind", back.kind)
        where = tracker.profile.code_label("county", back.county)
        console.print(
            f"[green]restored[/] {rid}: {what} on {spoken_date(back.date)}, {where}",
            highlight=False,
            soft_wrap=True,
        )
