"""Bringing a database to the library's schema with the alembic revisions in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from ..._errors import NotInitialised, SchemaVersionError
from . import rollup
from .dialects import dialect_for
from .errors import map_errors
from .schema import SCHEMA_VERSION, Schema

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(conn: Connection, prefix: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    cfg.attributes["table_prefix"] = prefix
    return cfg


def current_revision(conn: Connection, schema: Schema) -> str | None:
    """The revision the database is stamped with (``None``: not a tracker database)."""
    ctx = MigrationContext.configure(conn, opts={"version_table": schema.version_table})
    return ctx.get_current_revision()


def _init_hint(schema: Schema, url: str) -> str:
    prefix = f" --table-prefix {schema.prefix}" if schema.prefix else ""
    return f"iecmhc init --db {url}{prefix}"


def check_current(engine: Engine, schema: Schema, url: str) -> None:
    """For a store opened without creating or migrating: refuse (``NotInitialised``) a
    database with no tracker tables under the prefix, or one at an older schema, saying how
    to make it. Connects only to read; a SQLite file that is not there is not made."""
    if engine.url.get_backend_name() == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).exists():
            raise NotInitialised(
                f"there is no tracker database at {url} (no such file); create it with "
                f"`{_init_hint(schema, url)}`, or give the --db of an existing one"
            )
    with map_errors(url), engine.connect() as conn:
        current = current_revision(conn, schema)
        if current is None:
            where = f" with table prefix {schema.prefix!r}" if schema.prefix else ""
            raise NotInitialised(
                f"{url} holds no tracker tables{where}; create them with "
                f"`{_init_hint(schema, url)}` (nothing was created)"
            )
    if current == SCHEMA_VERSION:
        return
    with map_errors(url), engine.connect() as conn:
        cfg = alembic_config(conn, schema.prefix)
        try:
            ScriptDirectory.from_config(cfg).get_revision(current)
        except CommandError:
            raise SchemaVersionError(
                f"the database at {url} has schema revision {current!r}, which this version "
                f"of iecmhc_tracker does not know (it understands up to {SCHEMA_VERSION!r}); "
                "upgrade iecmhc_tracker to open it"
            ) from None
    raise NotInitialised(
        f"the tracker tables at {url} are at schema {current}, this version reads "
        f"{SCHEMA_VERSION}; migrate them with `{_init_hint(schema, url)}` (nothing was changed)"
    )


def migrate(engine: Engine, schema: Schema, url: str) -> str:
    """Bring the database to the library's schema; returns the revision it was at ("" if new).

    Refuses (``SchemaVersionError``) a database stamped with a revision this library does not
    know, which is what a newer library leaves behind. Concurrent openers take turns on the
    dialect's migration lock.
    """
    dialect = dialect_for(engine)
    with map_errors(url), engine.connect() as conn, dialect.migration_lock(conn):
        cfg = alembic_config(conn, schema.prefix)
        current = current_revision(conn, schema)
        if current == SCHEMA_VERSION:
            return current
        script = ScriptDirectory.from_config(cfg)
        if current is not None:
            try:
                script.get_revision(current)
            except CommandError:
                raise SchemaVersionError(
                    f"the database at {url} has schema revision {current!r}, which this "
                    f"version of iecmhc_tracker does not know (it understands up to "
                    f"{SCHEMA_VERSION!r}); upgrade iecmhc_tracker to open it"
                ) from None
        elif sa.inspect(conn).has_table(schema.activities.name):
            # tables made by metadata.create_all() in an embedding application: adopt them
            _ensure_meta(conn, schema)
            if sa.inspect(conn).has_table(schema.cells.name):
                command.stamp(cfg, "head")
                rollup.rebuild(conn, schema.activities, schema.cells)
                return ""
            # made by a release before the cell totals: take it from there
            command.stamp(cfg, "0001")
            command.upgrade(cfg, "head")
            return ""
        command.upgrade(cfg, "head")
        return current or ""


def _ensure_meta(conn: Connection, schema: Schema) -> None:
    have = {r[0] for r in conn.execute(sa.select(schema.meta.c.key))}
    for key, value in (("data_version", 0), ("schema_version", int(SCHEMA_VERSION))):
        if key not in have:
            conn.execute(schema.meta.insert().values(key=key, value=value))
