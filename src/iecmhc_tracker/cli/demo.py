"""``iecmhc demo``: synthetic activity into an embedded store, then the state dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from .._errors import TrackerError
from .._figures import year_before
from .._model import Activity
from .._record_types import AnyRecord
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
    # the tracker's clock: set back a year while the state publishes as it did then
    clock = [today]
    s = settings(db, profile, table_prefix)
    try:
        with open_settings(s, write=True, today=lambda: clock[0]) as tracker:
            data = list(
                generate(
                    tracker.profile, activities, consultants=consultants, seed=seed, today=today
                )
            )
            # engagements with their requests and weekly linked consultation (one per 20
            # activities: enough children per region that a year's kept-in-setting share is
            # published)
            more = generate_engagements(
                tracker.profile,
                max(1, activities // 20),
                consultants=consultants,
                seed=seed,
                today=today,
            )
            then = year_before(today)
            inserted = duplicates = 0
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("storing demo activity", total=activities)
                # the data up to a year ago first, published as the state would have then, so
                # the dashboard sets this year to date beside the year before at that point
                before = [a for a in data if a.date <= then]
                phases: list[tuple[list[Activity], list[AnyRecord], int]] = [
                    (before, [a for a in more.activities if a.date <= then], 0),
                    (
                        [a for a in data if a.date > then],
                        [
                            *more.engagements,
                            *more.requests,
                            *(a for a in more.activities if a.date > then),
                        ],
                        len(before),
                    ),
                ]
                for part, linked, offset in phases:

                    def moved(n: int, at: int = offset) -> None:
                        bar.update(task, completed=at + n)

                    result = tracker.record_many(part, batch_size=5000, progress=moved)
                    inserted += result.inserted
                    duplicates += result.duplicates
                    done = tracker.record_many(linked)
                    if not done.ok:
                        raise fail(f"the demo's engagements were refused: {done.rejected[0]}")
                    if offset == 0 and result.inserted and not result.duplicates:
                        bar.update(task, description=f"publishing as on {then:%d %B %Y}")
                        clock[0] = then
                        tracker.as_state().tables()
                        clock[0] = today
                        bar.update(task, description="storing demo activity")
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
            _print_headlines(tracker, dashboard, inserted, duplicates)
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
