"""A program-management application that already has its own SQLAlchemy models (sites and
consultation visits) and adds activity tracking to the same database.

* One database: the tracker's tables are created with the prefix ``iecmhc_`` in the
  application's own ``MetaData``, and the application uses the tracker store's engine.
* One transaction: :class:`EmbeddedStore` lets the store join the application's connection
  (inside a SAVEPOINT), so a visit and its activity are committed — or rolled back — together.

The library's SQL store has a public ``engine``, ``metadata`` and ``table_prefix``, but no
public way to run its writes on a connection the caller holds; ``EmbeddedStore`` adds that by
overriding the store's transaction hook (``SQLStore._tx``). It is the one place here that
leans on a private name, and the tests of this adapter fail if that hook changes.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import iecmhc_tracker as it
from iecmhc_tracker._sql import SQLStore, map_errors

PREFIX = "iecmhc_"


# -- the application's own models ------------------------------------------------------------
class Base(DeclarativeBase):
    pass


class Site(Base):
    """A child care site the application manages (its own table, its own names)."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)  # pseudonymous program id
    county: Mapped[str] = mapped_column(sa.String(64))
    setting: Mapped[str] = mapped_column(sa.String(64))


class Visit(Base):
    """A consultant's visit as the application schedules and bills it."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    consultant: Mapped[str] = mapped_column(sa.String(64))
    day: Mapped[dt.date]
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    # the tracker's Activity.id: the link between the two, and the idempotency key
    activity_id: Mapped[str] = mapped_column(sa.String(36), unique=True)


# -- the store joining the application's transaction ------------------------------------------
_joined: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
    "iecmhc_joined_connection", default=None
)


class EmbeddedStore(SQLStore):
    """The SQL store, able to run its reads and writes on the application's connection."""

    @contextlib.contextmanager
    def joined(self, connection: Connection) -> Iterator[None]:
        """Within this block, the store works inside ``connection``'s transaction."""
        token = _joined.set(connection)
        try:
            yield
        finally:
            _joined.reset(token)

    @contextlib.contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        conn = _joined.get()
        if conn is None:
            with super()._tx(write=write) as own:
                yield own
            return
        # a SAVEPOINT: a refused write undoes only itself; the outer commit decides the rest
        shown = make_url(self.url).render_as_string(hide_password=True)
        with map_errors(shown), conn.begin_nested():
            yield conn


def open_tracker(url: str, profile: str = "illinois", **options: Any) -> it.Tracker:
    """The tracker in the application's database, its tables in the application's MetaData.

    Opening it again (a second engine, a test) first takes the tracker's tables out of the
    MetaData: the store defines them afresh and SQLAlchemy refuses a table defined twice.
    """
    for table in [t for name, t in Base.metadata.tables.items() if name.startswith(PREFIX)]:
        Base.metadata.remove(table)
    store = EmbeddedStore(url, table_prefix=PREFIX, metadata=Base.metadata)
    return it.Tracker(store, it.load_profile(profile), **options)


def create_app_tables(tracker: it.Tracker) -> None:
    """Create the application's own tables (the tracker's exist already: alembic made them)."""
    store = _store(tracker)
    app_tables = [t for t in Base.metadata.sorted_tables if not t.name.startswith(PREFIX)]
    Base.metadata.create_all(store.engine, tables=app_tables)


def _store(tracker: it.Tracker) -> EmbeddedStore:
    if not isinstance(tracker.store, EmbeddedStore):
        raise TypeError("open the tracker with open_tracker() to embed it")
    return tracker.store


def log_visit(
    session: Session,
    tracker: it.Tracker,
    *,
    site: Site,
    consultant: str,
    day: dt.date,
    hours: Decimal,
    consultation_type: str,
    methods: tuple[str, ...] = (),
) -> Visit:
    """Add a visit and record its activity in the session's transaction.

    Nothing is committed here: the caller's ``session.commit()`` commits both, a rollback
    (or an exception before the commit) undoes both. A visit the tracker refuses raises the
    tracker's ``ValidationError`` and leaves the session to be rolled back.
    """
    activity = tracker.check(
        {
            "consultant": consultant,
            "program": site.code,
            "date": day,
            "county": site.county,
            "kind": "consultation",
            "setting": site.setting,
            "consultation_type": consultation_type,
            "hours": hours,
            "methods": list(methods),
        }
    )
    visit = Visit(
        site_id=site.id, consultant=consultant, day=day, hours=hours, activity_id=str(activity.id)
    )
    session.add(visit)
    session.flush()
    with _store(tracker).joined(session.connection()):
        tracker.as_consultant(consultant).record(activity)
    return visit
