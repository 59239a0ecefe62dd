"""Store URLs and the SQLAlchemy engine a SQL store runs on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from ..._errors import StorageError
from .dialects import dialect_class

#: the driver a URL without one gets; ``postgres://`` is the usual alias of ``postgresql://``
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_ALIASES = {"postgres": "postgresql"}


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL for a store URL: default drivers, utf8mb4 on MySQL."""
    try:
        u = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(f"{url!r} is not a valid database URL: {exc}") from None
    backend, _, driver = u.drivername.partition("+")
    if backend in _ALIASES:
        u = u.set(drivername=f"{_ALIASES[backend]}+{driver}" if driver else _ALIASES[backend])
    if u.drivername in DRIVERS:
        u = u.set(drivername=DRIVERS[u.drivername])
    if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u


def shown(url: str) -> str:
    """The URL as messages show it: password hidden."""
    return normalise_url(url).render_as_string(hide_password=True)


def create_engine(url: str) -> Engine:
    """An engine for ``url`` set up for the store (SQLite: parent dirs, WAL, FKs, timeout)."""
    u = normalise_url(url)
    dialect = dialect_class(u.get_backend_name())
    kwargs: dict[str, Any] = dialect.engine_options(u)
    try:
        engine = sa.create_engine(u, **kwargs)
    except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
        raise StorageError(f"cannot use {url!r}: {exc}") from None
    dialect.set_up(engine)
    return engine
