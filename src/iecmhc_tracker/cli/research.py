"""``iecmhc query`` and ``iecmhc budget``: differentially private releases for researchers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from .._errors import TrackerError, ValidationError
from .._query import Query
from .common import (
    EXIT_USAGE,
    DbOption,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    open_tracker,
)

AnalystOption = Annotated[str, typer.Option("--analyst", help="Your analyst id")]
INT_DIMENSIONS = ("fiscal_year", "quarter")


def parse_where(items: list[str]) -> dict[str, Any]:
    """``["fiscal_year=2025", "kind=consultation,training"]`` -> a Query's ``where``."""
    where: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            raise fail(f"--where {item!r} must look like field=value or field=v1,v2", EXIT_USAGE)
        values: list[Any] = [v.strip() for v in text.split(",") if v.strip()]
        if key in INT_DIMENSIONS:
            try:
                values = [int(v) for v in values]
            except ValueError:
                raise fail(f"--where {key} takes whole numbers, not {text!r}", EXIT_USAGE) from None
        where[key] = values if len(values) > 1 else values[0]
    return where


def parse_bounds(items: list[str], option: str) -> dict[str, float] | None:
    """``["hours=120"]`` -> ``{"hours": 120.0}``; anything else is a usage error."""
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        key, sep, text = item.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not sep or not key.strip() or not (value > 0 and value < float("inf")):
            raise fail(f"{option} {item!r} must look like measure=positive number", EXIT_USAGE)
        out[key.strip()] = value
    return out


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def query(
    analyst: AnalystOption,
    measure: Annotated[
        list[str], typer.Option("--measure", "-m", help="Measure (repeat for more)")
    ],
    by: Annotated[list[str] | None, typer.Option("--by", help="Dimension to group by")] = None,
    where: Annotated[
        list[str] | None, typer.Option("--where", help="Filter field=value[,value]")
    ] = None,
    epsilon: Annotated[float | None, typer.Option(help="Pure-DP budget to spend")] = None,
    rho: Annotated[float | None, typer.Option(help="zCDP budget to spend (Gaussian)")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the release as .csv or .json")] = None,
    bounds: Annotated[
        list[str] | None, typer.Option("--bounds", help="Clip per unit and cell: measure=value")
    ] = None,
    norm_bounds: Annotated[
        list[str] | None,
        typer.Option("--norm-bounds", help="Most one unit adds over all cells: measure=value"),
    ] = None,
    auto_bounds: Annotated[
        bool, typer.Option("--auto-bounds", help="Choose the bounds from the data under DP")
    ] = False,
    level: Annotated[float, typer.Option(help="Confidence level of the intervals")] = 0.95,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the error and the cost; spend nothing")
    ] = False,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Run a differentially private release; shows the budget spent and what is left."""
    if epsilon is not None and rho is not None:
        raise fail("give --epsilon or --rho, not both", EXIT_USAGE)
    if out is not None and out.suffix not in (".csv", ".json"):
        raise fail("--out must end in .csv or .json", EXIT_USAGE)
    if auto_bounds and (bounds or norm_bounds):
        raise fail(
            "--auto-bounds chooses the bounds; give no --bounds or --norm-bounds", EXIT_USAGE
        )
    clip = "auto" if auto_bounds else parse_bounds(bounds or [], "--bounds")
    norms = parse_bounds(norm_bounds or [], "--norm-bounds")
    q = Query(measures=measure, by=by or [], where=parse_where(where or []))
    with open_tracker(db, profile, table_prefix) as tracker:
        lab = tracker.as_researcher(analyst)
        asked: dict[str, Any] = dict(
            epsilon=epsilon, rho=rho, bounds=clip, norm_bounds=norms, level=level
        )
        try:
            if dry_run:
                console.print(str(lab.preview(q, **asked)), highlight=False)
                return
            rel = lab.release(q, **asked)
        except ValidationError as exc:
            raise fail(exc, EXIT_USAGE) from None
        except TrackerError as exc:
            raise fail(exc) from None
        frame = rel.to_pandas()
        meta = rel.metadata
        if out is not None:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                if out.suffix == ".csv":
                    frame.to_csv(out, index=False)
                else:
                    out.write_text(json.dumps(rel.to_dict(), indent=2, default=str))
            except OSError as exc:
                raise fail(f"cannot write {out}: {exc.strerror}", EXIT_USAGE) from None
            console.print(f"wrote {out.resolve()}")
        else:
            table = RichTable(title=f"DP release ({meta.get('mechanism', '')})")
            for col in frame.columns:
                table.add_column(str(col), justify="left" if col in rel.dims else "right")
            for row in frame.itertuples(index=False):
                table.add_row(*(_cell(v) for v in row))
            console.print(table)
        if meta.get("bounds_warning"):
            console.print(f"note: {meta['bounds_warning']}", highlight=False)
        cost = "0 (served from the release cache)" if meta.get("cached") else _cost(meta)
        console.print(f"spent: {cost}")
        console.print(str(lab.budget))


def _cost(meta: Any) -> str:
    years = ", ".join(f"FY{y}" for y in meta.get("fiscal_years", ()))
    charged = f"epsilon={meta.get('charged_epsilon', 0):.4g} on each of {years}"
    if meta.get("rho") is not None:
        return f"rho={meta['rho']:.4g}, charged as {charged}"
    return charged


def budget(
    analyst: AnalystOption,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Show an analyst's privacy budget (ε) per fiscal year of data: spent, allotment and
    remaining, and what is left of everyone's lifetime cap on the year."""
    with open_tracker(db, profile, table_prefix) as tracker:
        b = tracker.as_researcher(analyst).budget
        table = RichTable(title=f"Privacy budget of {b.analyst} (epsilon per fiscal year of data)")
        cols = ("fiscal year", "spent", "allotment", "remaining", "lifetime left", "lifetime cap")
        for col in cols:
            table.add_column(col, justify="right" if col != "fiscal year" else "left")
        for y in b.years:
            table.add_row(
                f"FY{y.fiscal_year}",
                f"{y.spent:.4g}",
                f"{y.allotment:.4g}",
                f"{y.remaining:.4g}",
                f"{y.lifetime_remaining:.4g}",
                f"{y.lifetime_cap:.4g}",
            )
        console.print(table)
