"""Any sequence of record / record_many (repeats, conflicts) / amend / delete / restore leaves
every backend in the same state as the memory model, with the same answers along the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iecmhc_tracker as it
from iecmhc_tracker._rows import Row, to_row
from iecmhc_tracker._synthetic import generate
from iecmhc_tracker.stores import MemoryStore, SQLStore, Store, open_store
from strategies import TODAY

IL = it.load_profile("illinois")
BASE = list(generate(IL, 8, consultants=3, seed=21, today=TODAY))
OTHER_COUNTY = {a.county: next(c.code for c in IL.counties if c.code != a.county) for a in BASE}
# each activity in two versions: the same id with other content is a conflict; the second
# version moves to another county with other hours, so an amend moves totals between cells
VERSIONS: list[list[Row]] = [
    [
        to_row(a, IL),
        to_row(
            a.evolve(
                note=f"Second version {i}.",
                county=OTHER_COUNTY[a.county],
                hours=None if a.hours is None else a.hours + 1,
            ),
            IL,
        ),
    ]
    for i, a in enumerate(BASE)
]
#: aggregate questions every backend must answer alike (the SQL stores from their cell totals
#: and from the rows)
QUESTIONS: list[tuple[str, list[str], list[tuple[str, tuple[str, ...]]], dict[str, Any]]] = [
    ("consultant", ["kind"], [("hours", ()), ("*", ())], {}),
    (
        "consultant",
        ["county", "region", "fiscal_year"],
        [("hours", ("consultation",)), ("*", ()), ("#units", ("training",))],
        {},
    ),
    ("program", ["consultation_type"], [("children_benefiting", ()), ("*", ())], {}),
    ("consultant", ["setting"], [("hours", ())], {"kind": ["consultation"]}),
    ("consultant", ["quarter"], [("hours", ()), ("*", ())], {}),  # beyond every grain
]
CONSULTANTS = sorted({a.consultant for a in BASE})
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

pick = st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 1))
ops = st.one_of(
    st.tuples(st.just("record"), pick),
    st.tuples(st.just("record_many"), st.lists(pick, max_size=6), st.booleans()),
    st.tuples(st.just("amend"), pick, st.sampled_from(["c-a", "c-b"])),
    st.tuples(st.just("delete"), st.integers(0, len(BASE) - 1), st.sampled_from(["c-a", "c-b"])),
    st.tuples(st.just("restore"), st.integers(0, len(BASE) - 1), st.sampled_from(["c-a", "c-b"])),
)


@pytest.fixture()
def backend(store_url: str) -> Iterator[Store]:
    store = open_store(store_url)
    yield store
    store.close()


def _reset(store: Store) -> Store:
    if isinstance(store, MemoryStore):
        return MemoryStore()
    assert isinstance(store, SQLStore)
    s = store.schema
    with store.engine.begin() as conn:
        for table in (s.referrals, s.activities, s.ledger, s.balances, s.cells):
            conn.execute(table.delete())
        conn.execute(s.meta.update().where(s.meta.c.key == "data_version").values(value=0))
    return store


def _apply(store: Store, op: tuple[Any, ...], step: int) -> Any:
    kind = op[0]
    at = T0 + dt.timedelta(minutes=step, microseconds=step)
    try:
        if kind == "record":
            i, v = op[1]
            return store.insert([VERSIONS[i][v]])
        if kind == "record_many":
            return store.insert([VERSIONS[i][v] for i, v in op[1]], atomic=op[2])
        if kind == "amend":
            (i, v), by = op[1], op[2]
            store.amend(VERSIONS[i][v]["id"], VERSIONS[i][v], by=by, at=at)
            return "amended"
        i, by = op[1], op[2]
        if kind == "restore":
            store.restore(VERSIONS[i][0]["id"], by=by, at=at)
            return "restored"
        store.delete(VERSIONS[i][0]["id"], by=by, at=at)
        return "deleted"
    except it.NotFound:
        return "not found"
    except it.ConflictError:
        return "not deleted"


def _state(store: Store) -> list[Row]:
    out = []
    for c in CONSULTANTS:
        for row in store.rows(consultant=c, include_deleted=True):
            row.pop("recorded_at")  # the store's own clock
            out.append(row)
    return sorted(out, key=lambda r: r["id"])


@pytest.mark.slow
# the fixture holds one store per backend; _reset empties it before every example
@settings(
    max_examples=max(10, settings.default.max_examples // 3),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=12))
def test_every_backend_matches_the_memory_model(backend: Store, steps: list[Any]) -> None:
    store = _reset(backend)
    model = MemoryStore()
    for n, op in enumerate(steps):
        assert _apply(store, op, n) == _apply(model, op, n), op
    assert _state(store) == _state(model)
    assert store.data_version() == model.data_version()
    for question in QUESTIONS:
        expected = sorted(model.partial_sums(*question), key=repr)
        assert sorted(store.partial_sums(*question), key=repr) == expected, question
        if isinstance(store, SQLStore):
            store.use_cells = False  # the same answer straight from the rows
            try:
                assert sorted(store.partial_sums(*question), key=repr) == expected, question
            finally:
                store.use_cells = True


def test_reset_empties_a_sql_store(tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 's.db'}")
    store.insert(VERSIONS[0][:1])
    _reset(store)
    assert store.get(VERSIONS[0][0]["id"]) is None and store.data_version() == 0
    with store.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(store.schema.activities)).scalar()
            == 0
        )
    store.close()
