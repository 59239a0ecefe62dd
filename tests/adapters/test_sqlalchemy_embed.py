"""Embedding: an application's own SQLAlchemy models and the tracker's tables in one database,
a visit and its activity committed or rolled back in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from adapters.sqlalchemy_embed import Site, Visit, create_app_tables, log_visit, open_tracker
from sqlalchemy.orm import Session

import iecmhc_tracker as it
from conftest import wipe_database

TODAY = dt.date(2026, 11, 1)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.services),
        pytest.param("mariadb", marks=pytest.mark.services),
    ]
)
def app_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    url: str = request.getfixturevalue("pg_url" if request.param == "postgresql" else "mariadb_url")
    wipe_database(url)
    return url


@pytest.fixture()
def tracker(app_url: str) -> Iterator[it.Tracker]:
    t = open_tracker(app_url, today=lambda: TODAY)
    create_app_tables(t)
    yield t
    t.close()


def _site(session: Session) -> Site:
    site = Site(code="p-0192", county="cook", setting="head_start")
    session.add(site)
    session.flush()
    return site


def _visit(session: Session, tracker: it.Tracker, site: Site, **over: object) -> Visit:
    args: dict[str, object] = dict(
        site=site,
        consultant="c-7f3a",
        day=dt.date(2025, 3, 4),
        hours=Decimal("1.5"),
        consultation_type="classroom",
        methods=("reflecting",),
    )
    args.update(over)
    return log_visit(session, tracker, **args)  # type: ignore[arg-type]


def _visits(tracker: it.Tracker) -> int:
    with Session(tracker.store.engine) as s:  # type: ignore[attr-defined]
        return s.scalar(sa.select(sa.func.count()).select_from(Visit)) or 0


def test_one_database_holds_both_sets_of_tables(tracker: it.Tracker) -> None:
    names = set(sa.inspect(tracker.store.engine).get_table_names())  # type: ignore[attr-defined]
    assert {"sites", "visits", "iecmhc_activities", "iecmhc_budget_ledger"} <= names
    assert not names - {"sites", "visits"} - {n for n in names if n.startswith("iecmhc_")}


def test_commit_writes_the_visit_and_its_activity(tracker: it.Tracker) -> None:
    with Session(tracker.store.engine) as s:  # type: ignore[attr-defined]
        visit = _visit(s, tracker, _site(s))
        s.commit()
        activity_id = visit.activity_id
    [activity] = tracker.as_consultant("c-7f3a").activities()
    assert str(activity.id) == activity_id
    assert (activity.program, activity.hours, activity.methods) == (
        "p-0192",
        Decimal("1.5"),
        ("reflecting",),
    )
    assert _visits(tracker) == 1


def test_rollback_undoes_the_visit_and_its_activity(tracker: it.Tracker) -> None:
    with Session(tracker.store.engine) as s:  # type: ignore[attr-defined]
        _visit(s, tracker, _site(s))
        s.rollback()
    assert tracker.as_consultant("c-7f3a").activities() == []
    assert _visits(tracker) == 0


def test_an_application_error_after_recording_undoes_both(tracker: it.Tracker) -> None:
    with pytest.raises(RuntimeError), Session(tracker.store.engine) as s:  # type: ignore[attr-defined]
        _visit(s, tracker, _site(s))
        raise RuntimeError("billing failed")
    assert tracker.as_consultant("c-7f3a").activities() == []
    assert _visits(tracker) == 0


def test_a_visit_the_tracker_refuses_is_not_written(tracker: it.Tracker) -> None:
    with Session(tracker.store.engine) as s:  # type: ignore[attr-defined]
        site = _site(s)
        s.commit()
        with pytest.raises(it.ValidationError) as exc:
            _visit(s, tracker, site, hours=Decimal("30"))
        s.rollback()
    assert exc.value.fields == {"hours"}
    assert _visits(tracker) == 0


def test_the_tracker_alone_still_works_in_the_shared_database(tracker: it.Tracker) -> None:
    tracker.record(
        {
            "consultant": "c-1",
            "date": "2025-03-04",
            "county": "cook",
            "kind": "training",
            "setting": "preschool",
            "hours": "2",
        }
    )
    assert tracker.as_consultant("c-1").summary()["training_hours"] == 2.0
