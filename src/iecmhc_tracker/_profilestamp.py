"""What a store remembers of the profile its data is recorded under, and what opening it
under a profile does with that.

A store is stamped with its profile (name, version, content digest, source and text) on its
first open to write. Opened again, it is read under that profile: given none, the store's
own (read back from the stored text, so no file is needed); given another one (another
name or content), it refuses with :class:`ProfileMismatch`, since its codes, tables and
budgets would be read under rules they were not recorded under. Changing a store's profile
is done on purpose, with :func:`migrate_profile` (``iecmhc profile migrate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ProfileError, ProfileMismatch
from ._profile import Profile, load_profile, load_profile_text
from .stores import Store

#: the profile a store without a stamp is read under when none is given
DEFAULT_PROFILE = "illinois"


def stamp_of(profile: Profile) -> dict[str, str]:
    """The stamp a store keeps of ``profile``."""
    return {
        "name": profile.name,
        "version": profile.version,
        "digest": profile.digest,
        "source": profile.source,
        "text": profile.text,
    }


def profile_of(stamp: Mapping[str, Any]) -> Profile:
    """The profile a store's stamp holds, read from its stored text."""
    if not stamp.get("text"):
        raise ProfileError(
            f"the store holds the profile {stamp.get('name')!r} without its text; give the "
            "profile (--profile) to open it"
        )
    try:
        return load_profile_text(str(stamp["text"]), f"{stamp['source']} (as stored)")
    except ProfileError as exc:
        raise ProfileError(
            f"the profile the store holds no longer loads: {exc}. Give a corrected one with "
            "--profile and record it with `iecmhc profile migrate`"
        ) from None


def held_by(stamp: Mapping[str, Any], profile: Profile) -> bool:
    """Whether ``profile`` is the one the stamp holds (same name, same content)."""
    return stamp.get("name") == profile.name and stamp.get("digest") == profile.digest


def describe(stamp: Mapping[str, Any]) -> str:
    """The stamp in a few words: name, version, digest and source."""
    return (
        f"{stamp.get('name')!r} (version {stamp.get('version')}, digest "
        f"{str(stamp.get('digest'))[:12]}, read from {stamp.get('source')})"
    )


def reference(profile: Profile) -> str:
    """How a command names ``profile``: a shipped one by its name, another by its file."""
    shipped = profile.source == f"profiles/{profile.name}.toml"
    return profile.name if shipped else profile.source


def mismatch(stamp: Mapping[str, Any], profile: Profile, url: str) -> ProfileMismatch:
    """The refusal of ``profile`` by a store holding ``stamp``, saying how to proceed."""
    if stamp.get("name") == profile.name:
        what = (
            f"the profile {profile.name!r} read from {profile.source} (digest "
            f"{profile.digest[:12]}) differs from the one the data at {url} was recorded "
            f"under: {describe(stamp)}"
        )
    else:
        what = (
            f"the data at {url} was recorded under the profile {describe(stamp)}, not "
            f"{profile.name!r} (read from {profile.source})"
        )
    return ProfileMismatch(
        f"{what}. Open it without a profile to read it under its own; to read it under the "
        f"new one from now on, record that on purpose with `iecmhc profile migrate --db {url} "
        f"--profile {reference(profile)}`"
    )


def settle(store: Store, profile: Profile | None, *, write: bool, url: str) -> Profile:
    """The profile to open ``store`` under: ``profile`` if it is the store's (or the store
    holds none yet), else ``ProfileMismatch``; without one, the store's own, or the
    default. With ``write``, a store holding no profile is stamped with the one chosen."""
    held = store.profile_stamp()
    if profile is None:
        if held is not None:
            return profile_of(held)
        profile = load_profile(DEFAULT_PROFILE)
    if held is None:
        if not write:
            return profile
        held = store.stamp_profile(stamp_of(profile))
    if not held_by(held, profile):
        raise mismatch(held, profile, url)
    return profile


#: the coded columns of stored data a new profile must still know
CODED_COLUMNS: tuple[str, ...] = (
    "county",
    "region",
    "kind",
    "setting",
    "consultation_type",
    "tier",
    "modality",
    "format",
    "language",
    "resource_type",
)


def codes_unknown_to(store: Store, profile: Profile) -> dict[str, list[str]]:
    """The codes the store's live data holds that ``profile`` does not list, per field."""
    missing: dict[str, list[str]] = {}
    for field in CODED_COLUMNS:
        held = {
            cell[0] for _, cell, _, _ in store.partial_sums("consultant", [field], [("*", ())], {})
        }
        unknown = sorted(str(c) for c in held if c is not None and c not in profile.code_set(field))
        if unknown:
            missing[field] = unknown
    return missing


def migrate_profile(
    store: Store, profile: Profile, *, force: bool = False
) -> dict[str, Any] | None:
    """Record ``profile`` as the store's from now on; returns the stamp it replaced.

    Refused (``ProfileMismatch``) when the stored data holds codes the new profile does not
    list (its tables and validation would not know them), unless ``force``."""
    if not force:
        missing = codes_unknown_to(store, profile)
        if missing:
            listed = "; ".join(f"{f}: {', '.join(codes)}" for f, codes in missing.items())
            raise ProfileMismatch(
                f"the stored activities use codes the profile {profile.name!r} ({profile.source})"
                f" does not list — {listed}. Add them to the profile, or record it anyway "
                "with --force"
            )
    old = store.profile_stamp()
    store.stamp_profile(stamp_of(profile), replace=True)
    return old
