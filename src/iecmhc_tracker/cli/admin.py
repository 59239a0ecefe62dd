"""Setting up: ``iecmhc init`` (create or migrate the store) and ``iecmhc profile check``."""

from __future__ import annotations

from typing import Annotated

import typer

from .._errors import TrackerError
from .._profile import load_profile, profile_path
from ..stores import SQLStore
from .common import DEFAULT_DB, EXIT_REFUSED, EXIT_USAGE, DbOption, console, fail

profile_app = typer.Typer(help="Work with state profiles.", no_args_is_help=True)


def init(
    db: DbOption = DEFAULT_DB,
    table_prefix: Annotated[
        str, typer.Option("--table-prefix", help="Prefix of every table (embedding)")
    ] = "",
) -> None:
    """Create the store's tables, or migrate them to this version's schema."""
    if db.startswith("memory://"):
        console.print("memory:// keeps nothing; there is nothing to create")
        return
    try:
        store = SQLStore(db, table_prefix=table_prefix)
    except TrackerError as exc:
        raise fail(exc, EXIT_USAGE) from None
    before = store.migrated_from
    store.close()
    if before == store.revision:
        console.print(f"{store} is up to date (schema {store.revision})", highlight=False)
    elif before:
        console.print(f"{store} migrated from {before} to {store.revision}", highlight=False)
    else:
        console.print(f"{store} created at schema {store.revision}", highlight=False)


@profile_app.command("check")
def profile_check(path: Annotated[str, typer.Argument(help="Profile name or TOML file")]) -> None:
    """Load a profile and report what it defines (or the first fault, with its line)."""
    try:
        p = load_profile(path)
    except TrackerError as exc:
        # a file that is there but faulty is refused; a name or file that is not there is usage
        file = profile_path(path)
        found = file is not None and file.exists()
        raise fail(exc, EXIT_REFUSED if found else EXIT_USAGE) from None
    console.print(
        f"[green]ok[/] {p.label}: {len(p.counties)} counties, {len(p.regions)} regions, "
        f"{len(p.kinds)} activity kinds, {len(p.tables)} published tables, "
        f"fiscal year starts in month {p.fiscal_year_start_month}"
    )
