"""``iecmhc demo``: synthetic activity into an embedded store, then the state dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from .._errors import TrackerError
from .._reports import dashboard_html, format_number, funding_data, funding_html
from .._synthetic import generate
from .._synthetic_engagements import generate_engagements
from .._tracker import Tracker
from .common import (
    EXIT_USAGE,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    open_settings,
    settings,
)

#: the demo's embedded store: re-running the demo finds its activities already stored
DEMO_DB = "sqlite:///demo-output/demo.db"


def demo(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            help="Store for the synthetic activity (only this flag sets it: the demo never "
            "writes into the database IECMHC_DB or iecmhc.toml names)",
        ),
    ] = DEMO_DB,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
    activities: Annotated[int, typer.Option(help="How many activities to generate")] = 20000,
    consultants: Annotated[int, typer.Option(help="How many consultants")] = 240,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the dashboard")] = Path("demo-output"),
) -> None:
    """Generate realistic synthetic activity, then write the state dashboard and print where."""
    today = dt.date.today()
    s = settings(db, profile, table_prefix)
    try:
        with open_settings(s, write=True) as tracker:
            data = generate(
                tracker.profile, activities, consultants=consultants, seed=seed, today=today
            )
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("storing demo activity", total=activities)
                result = tracker.record_many(
                    data, batch_size=5000, progress=lambda n: bar.update(task, completed=n)
                )
            # engagements with their requests and weekly linked consultation (one per 20 activities:
            # enough children per region that a year's kept-in-setting share is published)
            more = generate_engagements(
                tracker.profile,
                max(1, activities // 20),
                consultants=consultants,
                seed=seed,
                today=today,
            )
            linked = tracker.record_many([*more.engagements, *more.requests, *more.activities])
            if not linked.ok:
                raise fail(f"the demo's engagements were refused: {linked.rejected[0]}")
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
