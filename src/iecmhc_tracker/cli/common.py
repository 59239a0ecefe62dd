"""What every ``iecmhc`` command shares: consoles, options, one-line errors, opening a tracker."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from .._errors import ProfileError, StorageError, TrackerError
from .._profile import Profile, load_profile
from .._tracker import DEFAULT_URL, Tracker

console = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str, typer.Option("--db", envvar="IECMHC_DB", help="Store URL (sqlite:///…, memory://, …)")
]
ProfileOption = Annotated[
    str, typer.Option("--profile", envvar="IECMHC_PROFILE", help="Profile name or TOML path")
]
DEFAULT_DB = DEFAULT_URL

#: exit codes: 0 ok; 1 the data or the request was refused; 2 bad usage or setup
EXIT_REFUSED = 1
EXIT_USAGE = 2


def fail(exc: Exception | str, code: int = EXIT_REFUSED) -> typer.Exit:
    """Print one clear error line (never a traceback) and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def load(profile: str) -> Profile:
    try:
        return load_profile(profile)
    except ProfileError as exc:
        raise fail(exc, EXIT_USAGE) from None


def open_tracker(db: str, profile: str) -> Tracker:
    prof = load(profile)
    try:
        return Tracker.open(db, prof)
    except StorageError as exc:
        raise fail(exc, EXIT_USAGE) from None
    except TrackerError as exc:
        raise fail(exc) from None
