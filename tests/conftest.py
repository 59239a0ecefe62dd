"""Shared fixtures and hypothesis settings.

HYPOTHESIS_PROFILE=thorough runs the property tests with many more examples; the default keeps
the whole suite inside CI's time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import iecmhc_tracker as it

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TODAY = dt.date(2026, 11, 1)


@pytest.fixture(scope="session")
def illinois() -> it.Profile:
    return it.load_profile("illinois")


@pytest.fixture(params=["illinois", "california", "montana"], scope="session")
def any_profile(request: pytest.FixtureRequest) -> it.Profile:
    return it.load_profile(request.param)


@pytest.fixture()
def memory_tracker(illinois: it.Profile) -> it.Tracker:
    return it.Tracker.open("memory://", illinois, today=lambda: TODAY)


# -- store backends ---------------------------------------------------------------------------
# PostgreSQL and MariaDB tests run in a database made for this test run (dropped at the end);
# they skip when the server is unreachable, and fail instead under IECMHC_REQUIRE_SERVICES=1.
PG_ADMIN_URL = os.environ.get("IECMHC_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("IECMHC_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
STORE_BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.services),
    pytest.param("mariadb", marks=pytest.mark.services),
]


def _service_unavailable(what: str, exc: BaseException) -> None:
    reason = f"{what} is unreachable ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
    if os.environ.get("IECMHC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"IECMHC_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def _run_database(admin_url: str, what: str) -> Iterator[str]:
    import uuid

    import sqlalchemy as sa

    name = f"iecmhc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            extra = " CHARACTER SET utf8mb4" if admin.dialect.name == "mysql" else ""
            conn.exec_driver_sql(f"CREATE DATABASE {name}{extra}")
    except Exception as exc:
        admin.dispose()
        _service_unavailable(what, exc)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run."""
    yield from _run_database(PG_ADMIN_URL, "PostgreSQL at 127.0.0.1:5432")


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database for this test run."""
    yield from _run_database(MYSQL_ADMIN_URL, "MariaDB at 127.0.0.1:3306")


def wipe_database(url: str) -> None:
    """Drop every table of a test database (each test starts from an empty one)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine)
        md.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store, once per backend: memory, SQLite file, PostgreSQL, MariaDB."""
    kind = request.param
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url" if kind == "postgresql" else "mariadb_url")
    wipe_database(url)
    return url


@pytest.fixture(params=[b for b in STORE_BACKENDS if b != "memory"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like ``store_url``, for the SQL backends only (SQLite file in a folder not yet made)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    url: str = request.getfixturevalue("pg_url" if request.param == "postgresql" else "mariadb_url")
    wipe_database(url)
    return url
