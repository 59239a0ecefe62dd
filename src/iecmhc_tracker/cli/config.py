"""Where every command's store and profile come from: ``--db``, ``--table-prefix`` and
``--profile``, else ``IECMHC_DB``, ``IECMHC_TABLE_PREFIX`` and ``IECMHC_PROFILE``, else an
``iecmhc.toml`` in the working directory, else the defaults.

::

    # iecmhc.toml
    db = "postgresql+psycopg://tracker@db.example.org/appdb"
    table_prefix = "iecmhc_"
    profile = "profiles/arizona.toml"   # a shipped name or a path (from this file's folder)

Typer reads the flag and then the environment variable into an option; what neither gives
is ``None`` here and taken from the file, then from the default. Without a profile from
any of them, a command reads the store under the profile the store remembers.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

import attrs

from .._errors import TrackerError
from .._tomltext import line_of_key
from .._tracker import DEFAULT_URL

CONFIG_FILE = "iecmhc.toml"
#: the keys of iecmhc.toml, and the option and environment variable each stands for
KEYS: dict[str, tuple[str, str]] = {
    "db": ("--db", "IECMHC_DB"),
    "table_prefix": ("--table-prefix", "IECMHC_TABLE_PREFIX"),
    "profile": ("--profile", "IECMHC_PROFILE"),
}


class ConfigError(TrackerError):
    """``iecmhc.toml`` could not be read: the message names the file, line and key."""


@attrs.frozen(slots=True)
class Settings:
    """One command's store and profile, wherever each came from."""

    db: str
    table_prefix: str = ""
    #: a shipped profile's name or a TOML path; ``None``: the store's own
    profile: str | None = None


def read_file(folder: Path | None = None) -> dict[str, str]:
    """The settings of ``iecmhc.toml`` in ``folder`` (the working directory by default);
    empty when there is none. A profile path is taken from the file's folder."""
    path = (folder or Path.cwd()) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    lines = text.splitlines()
    out: dict[str, str] = {}
    for key, value in data.items():
        line = line_of_key(lines, key)
        at = f"{path}, line {line}" if line else str(path)
        if key not in KEYS:
            near = difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]}? " if near else ""
            raise ConfigError(
                f"{at}, key {key!r}: not a setting; {hint}the settings are {', '.join(KEYS)}"
            )
        if not isinstance(value, str) or (key != "table_prefix" and not value.strip()):
            raise ConfigError(
                f"{at}, key {key!r}: must be a non-empty string in quotes, not {value!r}"
                if key != "table_prefix"
                else f"{at}, key {key!r}: must be a string in quotes, not {value!r}"
            )
        out[key] = value
    profile = out.get("profile")
    if profile is not None and ("/" in profile or profile.endswith(".toml")):
        out["profile"] = str((path.parent / profile).resolve())
    return out


def resolve(
    db: str | None,
    table_prefix: str | None,
    profile: str | None,
    *,
    default_db: str = DEFAULT_URL,
    folder: Path | None = None,
) -> Settings:
    """The settings of one command: the value given (flag or environment), else the file's,
    else the default."""
    given: dict[str, Any] = {"db": db, "table_prefix": table_prefix, "profile": profile}
    missing = [k for k, v in given.items() if v is None]
    from_file = read_file(folder) if missing else {}
    for key in missing:
        given[key] = from_file.get(key)
    return Settings(
        db=given["db"] or default_db,
        table_prefix=given["table_prefix"] or "",
        profile=given["profile"] or None,
    )
