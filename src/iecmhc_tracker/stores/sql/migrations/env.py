"""alembic environment: runs on the connection the store hands over, under its table prefix."""

from __future__ import annotations

from alembic import context

from iecmhc_tracker.stores.sql.schema import build_schema

config = context.config
prefix: str = config.attributes.get("table_prefix", "")
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError(
        "the iecmhc_tracker migrations run through SQLStore or `iecmhc init --db URL`, "
        "which hand alembic a connection"
    )

context.configure(
    connection=connection,
    target_metadata=build_schema(prefix).metadata,
    version_table=f"{prefix}alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
