"""Embedding: an application's own SQLAlchemy models and the tracker's tables in one database,
a visit and its activity committed or rolled back in one transaction."""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import subprocess
import sys
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


# -- the example as its page gives it --------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "embedding.md"


def _page_blocks(lang: str) -> list[str]:
    text = PAGE.read_text(encoding="utf-8").split("## Embedding in an application's database")[1]
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def test_the_documented_command_runs_from_the_checkout(tmp_path: Path) -> None:
    [commands] = _page_blocks("sh")
    command = commands.splitlines()[0].split("#")[0].strip()
    assert command == "python -m adapters.sqlalchemy_embed"
    # the package installed, nothing else on the path: adapters/ is found from the checkout
    env = {k: v for k, v in os.environ.items() if not k.startswith("IECMHC_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    before = sorted(p.name for p in ROOT.iterdir())
    for _ in range(2):  # a second run on a fresh database again finds no site to get
        out = subprocess.run(
            [sys.executable, *command.split()[1:]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert "committed together: 1 visit(s)" in out.stdout
        assert "1 activity(ies) of 1.5 h" in out.stdout
    assert sorted(p.name for p in ROOT.iterdir()) == before  # nothing left in the checkout
    # with a URL: a second run finds the site and logs one more visit
    url = f"sqlite:///{tmp_path / 'app.db'}"
    for n in (1, 2):
        out = subprocess.run(
            [sys.executable, "-m", "adapters.sqlalchemy_embed", url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert f"committed together: {n} visit(s)" in out.stdout


def test_the_page_shows_the_code_the_command_runs() -> None:
    [code] = _page_blocks("python")
    page = ast.parse(code).body
    start = next(i for i, s in enumerate(page) if ast.unparse(s).startswith("tracker ="))
    main = next(
        f
        for f in ast.parse((ROOT / "adapters/sqlalchemy_embed/__main__.py").read_text()).body
        if isinstance(f, ast.FunctionDef) and f.name == "main"
    )
    shown = [ast.dump(s) for s in page[start:]]
    assert [ast.dump(s) for s in main.body[: len(shown)]] == shown
    # and the page's imports are the package's names
    imported = {a.name for s in page if isinstance(s, ast.ImportFrom) for a in s.names}
    assert {"site_for", "log_visit", "open_tracker", "create_app_tables"} <= imported
