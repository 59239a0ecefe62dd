"""A program-management application that already has its own SQLAlchemy models (sites and
consultation visits) and adds activity tracking to the same database.

* One database: the tracker's tables are created with the prefix ``iecmhc_`` in the
  application's own ``MetaData``, and the application uses the tracker store's engine.
* One transaction: the store's public ``SQLStore.joined(connection)`` runs its writes on the
  application's connection (inside a SAVEPOINT), so a visit and its activity are committed —
  or rolled back — together.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import iecmhc_tracker as it
from iecmhc_tracker.stores import SQLStore

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


class EmbeddedTracker(it.Tracker):
    """A tracker whose store is the SQL store in the application's database: its ``engine``
    is the application's too (``Session(tracker.store.engine)``)."""

    store: SQLStore


def open_tracker(url: str, profile: str = "illinois", **options: Any) -> EmbeddedTracker:
    """The tracker in the application's database, its tables in the application's MetaData.

    Opening it again (a second engine, a test) first takes the tracker's tables out of the
    MetaData: the store defines them afresh and SQLAlchemy refuses a table defined twice.
    """
    for table in [t for name, t in Base.metadata.tables.items() if name.startswith(PREFIX)]:
        Base.metadata.remove(table)
    store = SQLStore(url, table_prefix=PREFIX, metadata=Base.metadata)
    return EmbeddedTracker(store, it.load_profile(profile), **options)


def create_app_tables(tracker: it.Tracker) -> None:
    """Create the application's own tables (the tracker's exist already: alembic made them)."""
    store = _store(tracker)
    app_tables = [t for t in Base.metadata.sorted_tables if not t.name.startswith(PREFIX)]
    Base.metadata.create_all(store.engine, tables=app_tables)


def _store(tracker: it.Tracker) -> SQLStore:
    if not isinstance(tracker.store, SQLStore):
        raise TypeError("open the tracker with open_tracker() to embed it")
    return tracker.store


def site_for(session: Session, *, code: str, county: str, setting: str) -> Site:
    """The application's site with this program code, added (not yet committed) when the
    application has none yet."""
    site = session.scalars(sa.select(Site).where(Site.code == code)).one_or_none()
    if site is None:
        site = Site(code=code, county=county, setting=setting)
        session.add(site)
        session.flush()  # gives it its id
    return site


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
