"""The ``iecmhc`` command line: each command group lives in its own small module."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._cli_common import EXIT_USAGE, DbOption, ProfileOption, console, fail
from ._cli_import import import_, init
from ._cli_record import record
from ._cli_reports import report_app
from ._cli_research import budget, query
from ._errors import TrackerError
from ._profile import load_profile
from ._synthetic import generate
from ._tracker import Tracker

app = typer.Typer(
    help="Track IECMHC activity and publish privacy-safe statewide numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
profile_app = typer.Typer(help="Work with state profiles.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")
app.add_typer(report_app, name="report")
app.command()(record)
app.command()(query)
app.command()(budget)
app.command(name="import")(import_)
app.command()(init)
#: the demo's embedded store: re-running the demo finds its activities already stored
DEMO_DB = "sqlite:///demo-output/demo.db"


@app.command()
def demo(
    db: DbOption = DEMO_DB,
    profile: ProfileOption = "illinois",
    activities: Annotated[int, typer.Option(help="How many activities to generate")] = 20000,
    consultants: Annotated[int, typer.Option(help="How many consultants")] = 240,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data")] = 7,
) -> None:
    """Generate realistic synthetic activity and print what it adds up to."""
    try:
        with Tracker.open(db, profile) as tracker:
            data = generate(
                tracker.profile,
                activities,
                consultants=consultants,
                seed=seed,
                today=dt.date.today(),
            )
            result = tracker.record_many(data, batch_size=5000)
            _print_demo_summary(tracker, consultants, result.inserted, result.duplicates)
    except TrackerError as exc:
        raise fail(exc) from None


def _print_demo_summary(tracker: Tracker, consultants: int, inserted: int, duplicates: int) -> None:
    # Only the consultant role exists so far: sum each consultant's own exact summary.
    prof = tracker.profile
    hours: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for c in (f"c-{i:04d}" for i in range(consultants)):
        rows = tracker.as_consultant(c).summary()
        if not rows["activities"]:
            continue
        for k, h in rows["hours_by"].get("kind", {}).items():
            hours[k] += h
        count["activities"] += rows["activities"]
    table = Table(title=f"{prof.label}: generated demo activity")
    table.add_column("kind")
    table.add_column("hours", justify="right")
    for k in sorted(hours):
        table.add_row(prof.code_label("kind", k), f"{hours[k]:,.2f}")
    console.print(table)
    console.print(
        f"{count['activities']:,} activities in {tracker.store.url} "
        f"({inserted:,} new, {duplicates:,} already there)"
    )


@profile_app.command("check")
def profile_check(path: Annotated[str, typer.Argument(help="Profile name or TOML file")]) -> None:
    """Load a profile and report what it defines (or the first fault, with its line)."""
    try:
        p = load_profile(Path(path) if Path(path).exists() else path)
    except TrackerError as exc:
        raise fail(exc, EXIT_USAGE if not Path(path).exists() else 1) from None
    console.print(
        f"[green]ok[/] {p.label}: {len(p.counties)} counties, {len(p.regions)} regions, "
        f"{len(p.kinds)} activity kinds, {len(p.tables)} published tables, "
        f"fiscal year starts in month {p.fiscal_year_start_month}"
    )


def main() -> None:
    app()
