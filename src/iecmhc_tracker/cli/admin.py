"""Setting up: ``iecmhc init`` (create or migrate the store) and ``iecmhc profile …``
(check a profile, list its codes, record a new profile for a store on purpose)."""

from __future__ import annotations

import difflib
import tomllib
from typing import Annotated

import typer

from .._errors import NotInitialised, ProfileError, StorageError, TrackerError
from .._profile import County, Profile, load_profile, profile_path
from .._profilekeys import key_problems
from .._profilestamp import DEFAULT_PROFILE, describe, held_by, migrate_profile, settle
from .._tomltext import TomlReader
from ..stores import SQLStore, Store, open_store
from .common import (
    EXIT_REFUSED,
    EXIT_USAGE,
    DbOption,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    load,
    settings,
)
from .config import Settings

profile_app = typer.Typer(help="Work with state profiles.", no_args_is_help=True)


def init(
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Create the store's tables, or migrate them to this version's schema; with a profile,
    record it as the store's."""
    s = settings(db, profile, table_prefix)
    if s.db.startswith("memory://"):
        console.print("memory:// keeps nothing; there is nothing to create")
        return
    prof = None if s.profile is None else load(s.profile)
    try:
        store = SQLStore(s.db, table_prefix=s.table_prefix)
    except TrackerError as exc:
        raise fail(exc, EXIT_USAGE) from None
    try:
        before = store.migrated_from
        if before == store.revision:
            console.print(f"{store} is up to date (schema {store.revision})", highlight=False)
        elif before:
            console.print(f"{store} migrated from {before} to {store.revision}", highlight=False)
        else:
            console.print(f"{store} created at schema {store.revision}", highlight=False)
        if prof is not None:
            settle(store, prof, write=True, url=s.db)
        held = store.profile_stamp()
    except TrackerError as exc:
        raise fail(exc) from None
    finally:
        store.close()
    if held is None:
        console.print(
            "profile: none recorded yet; the first command that records activity records "
            "its profile (or give --profile here)",
            highlight=False,
        )
    else:
        console.print(f"profile: {describe(held)}", highlight=False, markup=False, soft_wrap=True)


def _open_existing(s: Settings) -> Store:
    """The configured store as it is (never created or migrated)."""
    try:
        options = {} if s.db.startswith("memory:") else {"create": False}
        return open_store(s.db, table_prefix=s.table_prefix, **options)
    except NotInitialised as exc:
        raise fail(exc) from None
    except TrackerError as exc:
        raise fail(exc, EXIT_USAGE) from None


def _current_profile(s: Settings) -> Profile:
    """The configured profile; without one, the store's (if there is a store), else the
    default."""
    if s.profile is not None:
        return load(s.profile)
    try:
        store = open_store(s.db, table_prefix=s.table_prefix, create=False)
    except NotInitialised:
        return load(DEFAULT_PROFILE)
    except StorageError as exc:
        raise fail(exc, EXIT_USAGE) from None
    try:
        return settle(store, None, write=False, url=s.db)
    except ProfileError as exc:
        raise fail(exc, EXIT_USAGE) from None
    finally:
        store.close()


@profile_app.command("check")
def profile_check(
    path: Annotated[
        str | None,
        typer.Argument(
            help="Profile name or TOML file (default: --profile, IECMHC_PROFILE or iecmhc.toml)"
        ),
    ] = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Load a profile and report what it defines, or every problem found, with its line."""
    s = settings(db, path or profile, table_prefix)
    name = s.profile or DEFAULT_PROFILE
    file = profile_path(name)
    problems = _key_problems(name)
    try:
        p = load_profile(name)
    except TrackerError as exc:
        # a file that is there but faulty is refused; a name or file that is not there is usage
        found = file is None or file.exists()
        for problem in problems:
            if str(problem) != str(exc):
                fail(problem)
        raise fail(exc, EXIT_REFUSED if found else EXIT_USAGE) from None
    console.print(
        f"[green]ok[/] {p.label} (version {p.version}, digest {p.digest[:12]}): "
        f"{len(p.counties)} counties, {len(p.regions)} regions, "
        f"{len(p.kinds)} activity kinds, {len(p.tables)} published tables, "
        f"fiscal year starts in month {p.fiscal_year_start_month}"
    )


def _key_problems(name: str) -> list[ProfileError]:
    """Every misplaced or unknown key of the profile's file (loading stops at the first)."""
    file = profile_path(name)
    if file is None or not file.is_file():
        return []
    try:
        text = file.read_text(encoding="utf-8")
        return key_problems(tomllib.loads(text), TomlReader(text, str(file)))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []


@profile_app.command("codes")
def profile_codes(
    field: Annotated[
        str | None, typer.Argument(help="One field: county, kind, … (default: every field)")
    ] = None,
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
) -> None:
    """Print the codes a profile accepts and their labels, for every field or one."""
    p = _current_profile(settings(db, profile, table_prefix))
    fields = p.coded_fields()
    if field is not None and field not in fields:
        near = difflib.get_close_matches(field, fields, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]}? " if near else ""
        raise fail(
            f"the {p.label} profile lists no codes for {field!r}; {hint}"
            f"fields with codes: {', '.join(fields)}",
            EXIT_USAGE,
        )
    for name in [field] if field is not None else fields:
        entries = p.code_list(name)
        console.print(f"[bold]{name}[/] ({len(entries)} codes)")
        width = max((len(c.code) for c in entries), default=0)
        for c in entries:
            region = f"  (region {c.region})" if isinstance(c, County) else ""
            console.print(f"  {c.code:<{width}}  {c.label}{region}", highlight=False, markup=False)


@profile_app.command("migrate")
def profile_migrate(
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Record it even if stored activities use codes it lacks"),
    ] = False,
) -> None:
    """Record a new profile as the store's, on purpose: from now on its data is read under
    it (give the profile with --profile, IECMHC_PROFILE or iecmhc.toml)."""
    s = settings(db, profile, table_prefix)
    if s.profile is None:
        raise fail("name the store's new profile with --profile NAME_OR_TOML", EXIT_USAGE)
    new = load(s.profile)
    store = _open_existing(s)
    try:
        old = store.profile_stamp()
        if old is not None and held_by(old, new):
            console.print(f"the store already holds {describe(old)}", highlight=False, markup=False)
            return
        migrate_profile(store, new, force=force)
        held = store.profile_stamp()
    except TrackerError as exc:
        raise fail(exc) from None
    finally:
        store.close()
    assert held is not None
    was = describe(old) if old is not None else "none"
    console.print(
        f"profile of {s.db}: was {was}; now {describe(held)}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
