"""``iecmhc report …``: the HTML reports and their CSV/JSON exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from .._errors import TrackerError
from .._reports import funding_data, funding_html, to_csv, to_json
from .._tracker import Tracker
from .common import (
    EXIT_USAGE,
    DbOption,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    open_tracker,
)

report_app = typer.Typer(help="Write a report as HTML, CSV or JSON.", no_args_is_help=True)

FormatOption = Annotated[str, typer.Option("--format", help="html, csv or json")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="File to write (default: print to the terminal)")
]
YearOption = Annotated[int | None, typer.Option("--fiscal-year", help="One fiscal year")]


def _check_format(fmt: str) -> None:
    if fmt not in ("html", "csv", "json"):
        raise fail(f"unknown format {fmt!r}; use html, csv or json", EXIT_USAGE)


def _emit(
    fmt: str,
    out: Path | None,
    data: Callable[[], Mapping[str, Any]],
    html: Callable[[], str],
) -> None:
    try:
        text = html() if fmt == "html" else (to_csv if fmt == "csv" else to_json)(data())
    except TrackerError as exc:
        raise fail(exc) from None
    if out is None:
        typer.echo(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}", EXIT_USAGE) from None
    console.print(f"wrote {out.resolve()}")


@report_app.command("portfolio")
def portfolio(
    consultant: Annotated[str, typer.Option("--consultant", help="Your consultant id")],
    fiscal_year: YearOption = None,
    fmt: FormatOption = "html",
    out: OutOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """A consultant's own portfolio: hours by type, setting and month, trainings, referrals."""
    _check_format(fmt)
    with open_tracker(db, profile, table_prefix) as tracker:
        me = tracker.as_consultant(consultant)
        years = [tracker.profile.fiscal_year(a.date) for a in me.activities()]
        _nothing_to_report("consultant", consultant, years, fiscal_year)
        _emit(
            fmt,
            out,
            lambda: me.portfolio_data(fiscal_year),
            lambda: me.portfolio_html(fiscal_year),
        )


@report_app.command("program")
def program(
    program_id: Annotated[str, typer.Option("--program", help="The program's id")],
    fiscal_year: YearOption = None,
    fmt: FormatOption = "html",
    out: OutOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """A program's reflection summary of its contacts with consultants."""
    _check_format(fmt)
    with open_tracker(db, profile, table_prefix) as tracker:
        view = tracker.as_program(program_id)
        years = [tracker.profile.fiscal_year(c["date"]) for c in view.contacts()]
        _nothing_to_report("program", program_id, years, fiscal_year)
        _emit(
            fmt,
            out,
            lambda: view.reflection_data(fiscal_year),
            lambda: view.reflection_html(fiscal_year),
        )


def _nothing_to_report(role: str, who: str, years: Sequence[int], fiscal_year: int | None) -> None:
    """A report of nobody's activity is refused (exit 1): a typo'd id is never an empty page."""
    if not years:
        raise fail(
            f"no activities are recorded for {role} {who!r}; check the id "
            f"(ids are matched exactly, case included)"
        )
    have = sorted(set(years))
    if fiscal_year is not None and fiscal_year not in have:
        raise fail(
            f"{role} {who!r} has no activities in fiscal year {fiscal_year}; "
            f"they have activities in FY{', FY'.join(map(str, have))}"
        )


def _state_year(tracker: Tracker, fiscal_year: int | None) -> int:
    return fiscal_year or tracker.profile.last_complete_fiscal_year(dt.date.today())


@report_app.command("dashboard")
def dashboard(
    fiscal_year: YearOption = None,
    fmt: FormatOption = "html",
    out: OutOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """The state dashboard: published tables, suppressed, for one fiscal year."""
    _check_format(fmt)
    with open_tracker(db, profile, table_prefix) as tracker:
        state = tracker.as_state()
        year = _state_year(tracker, fiscal_year)
        _emit(
            fmt,
            out,
            lambda: state.dashboard_data(year),
            lambda: state.dashboard_html(year),
        )


@report_app.command("funding")
def funding(
    fiscal_year: Annotated[
        int | None,
        typer.Option(
            "--fiscal-year",
            help="The latest fiscal year shown, with up to four before it "
            "(default: the last complete one)",
        ),
    ] = None,
    fmt: FormatOption = "html",
    out: OutOption = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """The funding justification one-pager: up to five years of statewide totals, the change
    over the latest year, and the children and programs reached."""
    _check_format(fmt)
    with open_tracker(db, profile, table_prefix) as tracker:
        prof = tracker.profile
        known = prof.fiscal_years(dt.date.today())
        if fiscal_year is not None and fiscal_year not in known:
            raise fail(
                f"--fiscal-year {fiscal_year} is outside this store's fiscal years "
                f"{known[0]}–{known[-1]}",
                EXIT_USAGE,
            )

        def data() -> dict[str, Any]:
            tables = list(tracker.as_state().tables().values())
            return funding_data(prof, tables, through=_state_year(tracker, fiscal_year))

        _emit(fmt, out, data, lambda: funding_html(prof, data()))
