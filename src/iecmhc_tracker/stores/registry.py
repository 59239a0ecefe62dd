"""Choosing a store by URL scheme: ``memory://``, ``sqlite://``, ``postgresql://`` (or
``postgres://``), ``mysql://`` and ``mariadb://``, each with an optional ``+driver``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from .._errors import StorageError
from .contract import Store
from .memory import MemoryStore
from .sql import SQLStore

StoreFactory = Callable[..., Store]


def _memory(url: str, **options: object) -> Store:
    return MemoryStore(url)


def _sql(url: str, **options: object) -> Store:
    store: Store = SQLStore(url, **cast(dict[str, Any], options))
    return store


#: scheme → factory; a third-party backend adds its scheme here
BACKENDS: dict[str, StoreFactory] = {
    "memory": _memory,
    "sqlite": _sql,
    "postgresql": _sql,
    "postgres": _sql,
    "mysql": _sql,
    "mariadb": _sql,
}


def open_store(url: str, **options: object) -> Store:
    """The store for ``url``, chosen by its scheme (the part before ``+`` and ``://``)."""
    if "://" not in url:
        raise StorageError(
            f"{url!r} is not a store URL; use e.g. sqlite:///tracker.db, memory://, "
            "postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db"
        )
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    factory = BACKENDS.get(scheme)
    if factory is None:
        raise StorageError(
            f"unknown store scheme {scheme!r} in {url!r}; known: {', '.join(sorted(BACKENDS))}"
        )
    return factory(url, **options)
