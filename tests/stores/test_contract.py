"""The Store contract over every backend: memory, SQLite file, PostgreSQL, MariaDB.

The suite itself is :mod:`iecmhc_tracker.stores.testing` (importable by a backend outside this
package); this module gives it the four backends, and adds what needs URLs or the tracker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import iecmhc_tracker as it
from iecmhc_tracker.stores import SQLStore, Store, open_store
from iecmhc_tracker.stores.testing import *  # noqa: F403
from iecmhc_tracker.stores.testing import HAND, HOSTILE, make_rows
from strategies import TODAY


@pytest.fixture()
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture()
def reopen_store(store_url: str) -> Callable[[], Store] | None:
    if store_url.startswith("memory"):
        return None
    return lambda: open_store(store_url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "mysql+pymysql://root@127.0.0.1:1/nowhere",
        "sqlite:////proc/no/such/place.db",
        "oracle://x",
        "not a url",
    ],
)
def test_backend_failures_become_storage_errors(url: str) -> None:
    with pytest.raises(it.StorageError) as info:
        it.Tracker.open(url)
    assert "Traceback" not in str(info.value) and str(info.value)


def test_driver_errors_are_translated_at_the_boundary(tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE activity_referrals")
    row = make_rows(n=1)[0]
    row["referrals"] = {"housing": 1}
    with pytest.raises(it.StorageError, match="no such table"):
        store.insert([row])
    store.close()


def _tables(url: str) -> set[str]:
    if url.startswith("memory"):
        return set()
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_hostile_strings_are_stored_exactly_or_rejected(store_url: str, tmp_path: Any) -> None:
    profile = _profile_with_text_field(tmp_path)
    tracker = it.Tracker.open(store_url, profile, today=lambda: TODAY)
    tracker.record(_hostile_activity(profile, note="first"))
    before = _tables(store_url)
    stored = rejected = 0
    for text in HOSTILE:
        for field in ("consultant", "program", "note", "extra.remark"):
            try:
                a = _hostile_activity(profile, **{field: text})
                tracker.record(a)
            except it.ValidationError:
                rejected += 1
                continue
            stored += 1
            who = a.consultant
            [back] = [x for x in tracker.as_consultant(who).activities() if x.id == a.id]
            assert back == a
    assert stored >= 10 and rejected >= 10
    assert _tables(store_url) == before
    assert len(tracker.as_consultant("c-1").activities()) == 1 + stored
    tracker.close()


def _profile_with_text_field(tmp_path: Any) -> it.Profile:
    from importlib.resources import files

    text = (files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text()
    path = tmp_path / "hostile.toml"
    path.write_text(text + '\n[fields.remark]\ntype = "text"\nlabel = "Remark"\n')
    return it.load_profile(path)


def _hostile_activity(profile: it.Profile, **fields: str) -> it.Activity:
    extra = {"remark": fields.pop("extra.remark")} if "extra.remark" in fields else {}
    base: dict[str, Any] = {**HAND, "extra": extra}
    base.update(fields)
    return it.Activity.from_dict(base)
