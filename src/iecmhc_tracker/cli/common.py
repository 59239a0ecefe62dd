"""What every ``iecmhc`` command shares: consoles, options, one-line errors, opening a tracker.

Every command takes ``--db``, ``--table-prefix`` and ``--profile`` (:mod:`.config` says where
else they may come from). Commands that only read open the store as it is: they never create
or migrate tables, and on a database without tracker tables they say so, exit 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .._errors import NotInitialised, ProfileError, ProfileMismatch, StorageError, TrackerError
from .._profile import Profile, load_profile
from .._tracker import DEFAULT_URL, Tracker
from .config import ConfigError, Settings, resolve

console = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="IECMHC_DB",
        help="Store URL (sqlite:///…, postgresql+psycopg://…, memory://) "
        "(default: db in ./iecmhc.toml, else sqlite:///tracker.db)",
        show_default=False,
    ),
]
PrefixOption = Annotated[
    str | None,
    typer.Option(
        "--table-prefix",
        envvar="IECMHC_TABLE_PREFIX",
        help="Prefix of every tracker table, for a store inside an application's database "
        "(default: table_prefix in ./iecmhc.toml, else none)",
        show_default=False,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        envvar="IECMHC_PROFILE",
        help="Profile name or TOML path (default: profile in ./iecmhc.toml, else the one "
        "the store holds)",
        show_default=False,
    ),
]
DEFAULT_DB = DEFAULT_URL

#: exit codes: 0 ok; 1 the data or the request was refused; 2 bad usage or setup
EXIT_REFUSED = 1
EXIT_USAGE = 2


def fail(exc: Exception | str, code: int = EXIT_REFUSED) -> typer.Exit:
    """Print one clear error line (never a traceback) and return the Exit to raise."""
    # the message is text, not markup: "[privacy.dp]" must print as it is
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load(profile: str) -> Profile:
    try:
        return load_profile(profile)
    except ProfileError as exc:
        raise fail(exc, EXIT_USAGE) from None


def settings(
    db: str | None,
    profile: str | None,
    table_prefix: str | None = None,
    *,
    default_db: str = DEFAULT_DB,
) -> Settings:
    """The command's store and profile: flag, environment, ``iecmhc.toml``, default."""
    try:
        return resolve(db, table_prefix, profile, default_db=default_db)
    except ConfigError as exc:
        raise fail(exc, EXIT_USAGE) from None


def open_tracker(
    db: str | None,
    profile: str | None,
    table_prefix: str | None = None,
    *,
    write: bool = False,
) -> Tracker:
    """The tracker of the configured store. ``write=False`` (a command that only reads, or
    only charges a budget) never creates or migrates tables; ``write=True`` (recording,
    importing) creates a new store and stamps it with its profile."""
    s = settings(db, profile, table_prefix)
    return open_settings(s, write=write)


def open_settings(
    s: Settings, *, write: bool = False, today: Callable[[], dt.date] = dt.date.today
) -> Tracker:
    prof = None if s.profile is None else load(s.profile)
    try:
        return Tracker.open(s.db, prof, create=write, table_prefix=s.table_prefix, today=today)
    except (NotInitialised, ProfileMismatch) as exc:
        raise fail(exc) from None
    except (StorageError, ProfileError) as exc:
        raise fail(exc, EXIT_USAGE) from None
    except TrackerError as exc:
        raise fail(exc) from None
