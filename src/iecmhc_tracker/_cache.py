"""The release cache: a repeated query gets the identical noisy answer, at no cost.

Kept on disk with diskcache, so a new process (or another analyst) asking the same question
of the same data gets the same numbers, not a fresh draw: averaging repeated queries gains
nothing. Keyed by a canonical form of what the noise depends on (profile, privacy unit, query,
bounds, bounding, mechanism, budget, δ, the public cells, the fiscal years read, and a digest
of the store and its ``data_version``); new data changes the version and so misses the cache.
What it keeps may be served to another analyst, so it holds no analyst, no time of the first
release and no exact data version (only the digest). Deliberately **not** keyed by analyst:
the same question gets the same answer whoever asks, so analysts cannot pool independent
draws either. Nor by confidence level or post-processing: those are derived from the cached
noisy totals, so asking for a 90 % interval or unrounded values costs nothing either.

Where it lives (``Tracker(cache_dir=...)`` overrides):

* ``sqlite:///path/x.db`` -> ``path/x.db.release-cache/`` beside the database file;
* server URLs (PostgreSQL, MariaDB) -> ``<user cache dir>/iecmhc-tracker/releases/<hash of
  the URL without its password>/`` (``$XDG_CACHE_HOME``, ``~/Library/Caches`` or
  ``%LOCALAPPDATA%``);
* ``memory://`` (and in-memory SQLite) -> a temporary directory removed on close, because
  that data dies with the process too.

The cache only ever saves budget: every miss is charged on the ledger in the store, so a
machine with another cache directory pays again for a fresh draw rather than getting one free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import diskcache

from ._errors import StorageError

_LOCK_EXPIRE = 600.0  # seconds; a crashed holder's lock frees itself


def canonical_key(parts: Mapping[str, Any]) -> str:
    """A stable digest of ``parts`` (JSON with sorted keys): equal parts, equal key."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def default_directory(url: str) -> tuple[Path, bool]:
    """The cache directory for a store URL, and whether it is temporary."""
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        path = path.split("?", 1)[0]
        if path and path != ":memory:":
            db = Path(path)
            return db.with_name(db.name + ".release-cache"), False
    elif scheme not in ("memory", ""):
        return _user_cache() / "iecmhc-tracker" / "releases" / _url_digest(url), False
    return Path(tempfile.mkdtemp(prefix="iecmhc-release-cache-")), True


def data_digest(url: str, version: int) -> str:
    """An opaque name for one state of one store's data: equal data, equal digest; it tells
    nobody how many changes there were, nor when."""
    return canonical_key({"store": store_identity(url), "data_version": version})[:20]


def store_identity(url: str) -> str:
    """A digest naming the store (its URL without password), so a cache directory shared by
    several stores never serves one store's release for another's."""
    return _url_digest(url)


def _url_digest(url: str) -> str:
    # the password never reaches a directory name
    try:
        from sqlalchemy.engine import make_url

        safe = make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL SQLAlchemy cannot parse still gets its own directory
        safe = url.split("@")[-1]
    return hashlib.sha256(safe.encode()).hexdigest()[:20]


def _user_cache() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


class ReleaseCache:
    """Noisy release totals on disk, keyed by :func:`canonical_key`."""

    def __init__(self, directory: str | Path, *, temporary: bool = False) -> None:
        self.directory = Path(directory)
        self._temporary = temporary
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(str(self.directory))
        except OSError as exc:
            raise StorageError(
                f"cannot open the release cache in {self.directory}: {exc.strerror}; "
                "pass Tracker.open(..., cache_dir=...) a writable directory"
            ) from None

    @classmethod
    def for_store(cls, url: str, cache_dir: str | Path | None = None) -> ReleaseCache:
        if cache_dir is not None:
            return cls(cache_dir)
        directory, temporary = default_directory(url)
        return cls(directory, temporary=temporary)

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._cache.get(key)
        return value if isinstance(value, dict) else None

    def set(self, key: str, value: Mapping[str, Any]) -> None:
        self._cache.set(key, dict(value))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Held across check, charge, draw and store, so two processes asking the same new
        question get one draw between them (and one charge), not two."""
        with diskcache.Lock(self._cache, "lock:" + key, expire=_LOCK_EXPIRE):
            yield

    def close(self) -> None:
        self._cache.close()
        if self._temporary:
            shutil.rmtree(self.directory, ignore_errors=True)
