"""The ``iecmhc`` command line: each command group lives in its own small module."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from ._cli_common import EXIT_USAGE, DbOption, ProfileOption, console, fail
from ._cli_import import import_, init
from ._cli_record import record
from ._cli_reports import report_app
from ._cli_research import budget, query
from ._errors import TrackerError
from ._profile import load_profile
from ._reports import dashboard_html, format_number, funding_data, funding_html
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
    out: Annotated[Path, typer.Option(help="Folder for the dashboard")] = Path("demo-output"),
) -> None:
    """Generate realistic synthetic activity, then write the state dashboard and print where."""
    today = dt.date.today()
    try:
        with Tracker.open(db, profile) as tracker:
            data = generate(
                tracker.profile, activities, consultants=consultants, seed=seed, today=today
            )
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("storing demo activity", total=activities)
                result = tracker.record_many(
                    data, batch_size=5000, progress=lambda n: bar.update(task, completed=n)
                )
            year = tracker.profile.last_complete_fiscal_year(today)
            state = tracker.as_state()
            dashboard = state.dashboard_data(year)
            out.mkdir(parents=True, exist_ok=True)
            page = out / "dashboard.html"
            page.write_text(dashboard_html(tracker.profile, dashboard), encoding="utf-8")
            funding = out / "funding.html"
            tables = list(state.tables().values())
            funding.write_text(
                funding_html(tracker.profile, funding_data(tracker.profile, tables, through=year)),
                encoding="utf-8",
            )
            _print_headlines(tracker, dashboard, result.inserted, result.duplicates)
    except TrackerError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"cannot write the dashboard into {out}: {exc.strerror}", EXIT_USAGE) from None
    # paths are printed unwrapped so they can be copied whole
    console.print(f"funding summary: {funding.resolve()}", soft_wrap=True)
    console.print(f"dashboard: {page.resolve()}", soft_wrap=True)


def _print_headlines(
    tracker: Tracker, dashboard: dict[str, Any], inserted: int, duplicates: int
) -> None:
    table = Table(title=f"{tracker.profile.label}: FY{dashboard['fiscal_year']} by the numbers")
    table.add_column("statewide (suppressed aggregates)")
    table.add_column("value", justify="right")
    for tile in dashboard["tiles"]:
        value = tile["value"]
        table.add_row(tile["label"], "withheld" if value is None else format_number(value))
    console.print(table)
    console.print(
        f"{inserted:,} new activities stored in {tracker.store.url} "
        f"({duplicates:,} were already there)",
        soft_wrap=True,
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
