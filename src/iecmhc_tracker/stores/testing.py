"""The Store contract as tests: run them over any backend, this package's or another's.

In a test module, define a ``store`` fixture giving an empty store (and, for a backend that
persists, ``reopen_store`` giving a callable that opens another store object on the same
data), then import the suite::

    import pytest
    from iecmhc_tracker.stores.testing import *  # noqa: F403

    @pytest.fixture()
    def store():
        s = MyStore("myscheme://…")
        yield s
        s.close()

Aggregates are compared with the plain-Python reference (the memory store and ``bounding``)
on the same rows, and with hand-computed numbers on a small dataset. Needs pytest.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .._columns import Row
from .._errors import BudgetExceeded, ConflictError, NotFound, StorageError
from .._model import Activity
from .._profile import Profile, load_profile
from .._rows import to_row
from .._synthetic import generate
from .contract import Store
from .memory import MemoryStore
from .testing_dates import *  # noqa: F403 - the date_in filter's part
from .testing_records import *  # noqa: F403 - the engagements' and requests' part
from .testing_stamp import *  # noqa: F403  (the profile stamp's part of the suite)

TODAY = dt.date(2026, 11, 1)

IL = load_profile("illinois")
CA = load_profile("california")
STAMPS = ("recorded_at", "updated_at", "updated_by", "deleted_at", "deleted_by")
AT = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)


@pytest.fixture()
def reopen_store() -> Callable[[], Store] | None:
    """Override with a fixture giving another store object on the same data as ``store``
    (for a backend that persists); ``None`` skips the persistence checks."""
    return None


def make_rows(profile: Profile = IL, n: int = 40, seed: int = 3, consultants: int = 8) -> list[Row]:
    return [
        to_row(a, profile)
        for a in generate(profile, n, consultants=consultants, seed=seed, today=TODAY)
    ]


def content(row: Row) -> Row:
    return {k: v for k, v in row.items() if k not in STAMPS}


#: a small, valid Illinois activity (as a mapping ``Activity.from_dict`` reads)
HAND: dict[str, Any] = {
    "consultant": "c-1",
    "program": "p-1",
    "date": "2025-03-04",
    "county": "cook",
    "kind": "consultation",
    "setting": "head_start",
    "consultation_type": "classroom",
    "modality": "onsite",
    "hours": "1",
}


def hand_row(**kw: Any) -> Row:
    """A small, valid activity row with chosen numbers (for hand-computed aggregates)."""
    return to_row(Activity.from_dict({**HAND, **kw}), IL)


# -- writes ---------------------------------------------------------------------------------
def test_insert_is_idempotent_on_id(store: Store) -> None:
    rows = make_rows()
    ins, dup, conf = store.insert(rows)
    assert (len(ins), dup, conf) == (40, [], [])
    assert store.insert(rows) == ([], [r["id"] for r in rows], [])
    assert sum(len(store.rows(consultant=c)) for c in {r["consultant"] for r in rows}) == 40


def test_a_conflict_is_reported_and_atomic_batches_write_nothing(store: Store) -> None:
    first, *rest = make_rows(n=6)
    store.insert([first])
    changed = dict(first, hours=7.0, content_hash="0" * 32)
    ins, dup, conf = store.insert([*rest, changed])
    assert (ins, dup, conf) == ([], [], [first["id"]])
    assert all(store.get(r["id"]) is None for r in rest)  # atomic: none of the batch written
    assert store.get(first["id"])["hours"] == first["hours"]  # never written over
    ins, _, conf = store.insert([*rest, changed], atomic=False)
    assert len(ins) == 5 and conf == [first["id"]]
    assert all(store.get(r["id"]) is not None for r in rest)
    assert store.get(first["id"])["content_hash"] == first["content_hash"]


def test_repeats_inside_one_batch(store: Store) -> None:
    a, b = make_rows(n=2)
    b_other = dict(b, content_hash="f" * 32)
    ins, dup, conf = store.insert([a, b, a, b_other], atomic=False)
    assert (ins, dup, conf) == ([a["id"], b["id"]], [a["id"]], [b["id"]])
    assert store.get(b["id"])["content_hash"] == b["content_hash"]


def test_a_generator_of_rows_is_read_once_like_a_list(store: Store) -> None:
    a, b, c = make_rows(n=3)
    b_other = dict(b, content_hash="f" * 32)
    ins, dup, conf = store.insert(r for r in [a, b, a, b_other, c])  # atomic: nothing written
    assert (ins, dup, conf) == ([], [a["id"]], [b["id"]])
    assert all(store.get(r["id"]) is None for r in (a, b, c))
    ins, dup, conf = store.insert(r for r in [a, b, a, c])
    assert (ins, dup, conf) == ([a["id"], b["id"], c["id"]], [a["id"]], [])
    assert store.insert(iter([c, b])) == ([], [c["id"], b["id"]], [])  # stored: duplicates


class _Broken(Exception):
    pass


def test_a_failing_row_source_writes_nothing_and_its_error_propagates(store: Store) -> None:
    rows = make_rows(n=30)
    version = store.data_version()

    def source() -> Iterator[Row]:
        yield from rows[:20]
        raise _Broken("the 21st record could not be read")

    with pytest.raises(_Broken, match="21st"):
        store.insert(source())
    assert all(store.get(r["id"]) is None for r in rows)
    assert store.data_version() == version
    assert sum(n for _, _, n, _ in store.partial_sums("consultant", ["county"], [], {})) == 0
    assert len(store.insert(rows)[0]) == 30  # the store is still usable


def test_rows_round_trip_exactly_and_in_date_order(store: Store) -> None:
    rows = make_rows(CA, n=60, consultants=3)
    store.insert(rows)
    for c in {r["consultant"] for r in rows}:
        mine = sorted((r for r in rows if r["consultant"] == c), key=lambda r: (r["date"], r["id"]))
        back = store.rows(consultant=c)
        assert [content(r) for r in back] == mine
        assert all(r["recorded_at"].tzinfo is not None and r["deleted_at"] is None for r in back)
    prog = rows[0]["program"] or next(r["program"] for r in rows if r["program"])
    assert {r["id"] for r in store.rows(program=prog)} == {
        r["id"] for r in rows if r["program"] == prog
    }
    assert store.get("00000000-0000-4000-8000-000000000000") is None
    with pytest.raises(ValueError):
        store.rows()


def test_amend_and_delete_keep_who_and_when(store: Store) -> None:
    row, other = make_rows(n=2, consultants=1)
    store.insert([row, other])
    new = dict(row, hours=3.25, note="Amended.", referrals={"housing": 2}, content_hash="a" * 32)
    store.amend(row["id"], new, by="c-0000", at=AT)
    got = store.get(row["id"])
    assert content(got) == new
    assert (got["updated_by"], got["updated_at"]) == ("c-0000", AT)
    store.delete(row["id"], by="c-0000", at=AT)
    assert [r["id"] for r in store.rows(consultant=row["consultant"])] == [other["id"]]
    gone = store.get(row["id"])
    assert (gone["deleted_by"], gone["deleted_at"]) == ("c-0000", AT)
    assert row["id"] in {
        r["id"] for r in store.rows(consultant=row["consultant"], include_deleted=True)
    }
    with pytest.raises(NotFound):
        store.delete(row["id"], by="c-0000", at=AT)
    with pytest.raises(NotFound):
        store.amend(row["id"], new, by="c-0000", at=AT)
    with pytest.raises(NotFound):
        store.delete("00000000-0000-4000-8000-000000000000", by="x", at=AT)
    # deleted rows never count
    [(_, _cell, n, sums)] = store.partial_sums("consultant", (), [("*", ())], {})
    assert (n, sums) == (1, (1.0,))


def test_restore_brings_a_deleted_row_back_as_it_was(
    store: Store, reopen_store: Callable[[], Store] | None
) -> None:
    row = hand_row(hours="2", referrals={"housing": 1})
    other = hand_row(hours="3", county="lake")
    store.insert([row, other])
    hours = [("hours", ()), ("*", ()), ("referral_total", ())]
    before = sorted(store.partial_sums("consultant", ["county"], hours, {}))
    store.delete(row["id"], by="c-1", at=AT)
    assert sorted(store.partial_sums("consultant", ["county"], hours, {})) == [
        ("c-1", ("lake",), 1, (3.0, 1.0, 0.0))
    ]
    deleted = store.data_version()
    later = AT + dt.timedelta(days=1)
    store.restore(row["id"], by="c-1", at=later)
    assert store.data_version() != deleted
    got = store.get(row["id"])
    assert content(got) == row  # the content it had, referrals included
    assert (got["deleted_at"], got["deleted_by"]) == (None, None)
    assert (got["updated_by"], got["updated_at"]) == ("c-1", later)
    assert sorted(r["id"] for r in store.rows(consultant="c-1")) == sorted([row["id"], other["id"]])
    assert sorted(store.partial_sums("consultant", ["county"], hours, {})) == before
    assert sorted(
        store.partial_sums("consultant", ["resource_type"], [("referral_total", ())], {})
    ) == [("c-1", ("housing",), 1, (1.0,))]
    if reopen_store is not None:
        again = reopen_store()
        assert again.get(row["id"])["deleted_at"] is None
        again.close()


def test_restore_refuses_a_live_row_and_an_unknown_id(store: Store) -> None:
    row = hand_row()
    store.insert([row])
    version = store.data_version()
    with pytest.raises(ConflictError, match="not deleted"):
        store.restore(row["id"], by="c-1", at=AT)
    with pytest.raises(NotFound):
        store.restore("00000000-0000-4000-8000-000000000000", by="c-1", at=AT)
    assert store.data_version() == version
    store.delete(row["id"], by="c-1", at=AT)
    store.restore(row["id"], by="c-1", at=AT)
    with pytest.raises(ConflictError):
        store.restore(row["id"], by="c-1", at=AT)  # once restored, live again


def test_data_version_changes_with_live_data_only(store: Store) -> None:
    rows = make_rows(n=3)
    v0 = store.data_version()
    store.insert(rows)
    v1 = store.data_version()
    assert v1 != v0
    store.insert(rows)  # duplicates change nothing
    store.charge("a-1", ["FY2025"], 0.1, allotment=1.0, cap=2.0, entry={})
    assert store.data_version() == v1
    store.amend(rows[0]["id"], dict(rows[0], hours=2.0), by="c", at=AT)
    v2 = store.data_version()
    store.delete(rows[1]["id"], by="c", at=AT)
    v3 = store.data_version()
    store.restore(rows[1]["id"], by="c", at=AT)
    assert len({v0, v1, v2, v3, store.data_version()}) == 5


# -- aggregation ----------------------------------------------------------------------------
def test_aggregates_by_hand(store: Store) -> None:
    store.insert(
        [
            hand_row(hours="2"),
            hand_row(hours="3", county="lake"),
            hand_row(hours="4.5", consultant="c-2"),
            hand_row(kind="training", hours="1", consultation_type=None),
            hand_row(
                kind="referral_only",
                hours=None,
                consultation_type=None,
                modality=None,
                referrals={"housing": 2, "food": 1},
            ),
        ]
    )
    hours = [("hours", ()), ("hours", ("training",)), ("*", ()), ("#units", ())]
    got = sorted(store.partial_sums("consultant", ["county"], hours, {}))
    assert got == [
        ("c-1", ("cook",), 3, (3.0, 1.0, 3.0, 1.0)),
        ("c-1", ("lake",), 1, (3.0, 0.0, 1.0, 1.0)),
        ("c-2", ("cook",), 1, (4.5, 0.0, 1.0, 1.0)),
    ]
    stats = sorted(store.cell_stats("consultant", ["county"], hours, {}))
    assert stats[0] == (("cook",), 4, 2, (7.5, 1.0, 4.0, 2.0), (4.5, 1.0, 3.0, 1.0))
    refs = sorted(store.partial_sums("consultant", ["resource_type"], [("referral_total", ())], {}))
    assert refs == [("c-1", ("food",), 1, (1.0,)), ("c-1", ("housing",), 1, (2.0,))]
    only = store.partial_sums(
        "consultant", [], [("referral_total", ())], {"resource_type": ["housing"]}
    )
    assert only == [("c-1", (), 1, (2.0,))]
    clipped = sorted(
        store.bounded_sums(
            "consultant",
            ["county"],
            [("hours", ())],
            {},
            clip=[4.0],
            norm="l1",
            norm_bounds=[5.0],
            max_cells=None,
        )
    )
    # c-1: cook 2 + training 1 = 3 and lake 3 (under the clip): l1 6 > 5, so x 5/6;
    # c-2: cook 4.5 clipped to 4
    assert clipped[0][0] == ("cook",) and math.isclose(clipped[0][1][0], 3 * 5 / 6 + 4)
    assert math.isclose(clipped[1][1][0], 3 * 5 / 6)
    assert store.partial_sums("program", ["county"], [("*", ())], {"county": "will"}) == []


QUERIES: list[tuple[str, list[str], list[tuple[str, tuple[str, ...]]], dict[str, Any]]] = [
    ("consultant", ["county"], [("hours", ()), ("*", ()), ("#units", ())], {}),
    (
        "consultant",
        ["fiscal_year", "kind"],
        [("hours", ("training",)), ("participants", ()), ("minutes", ())],
        {"date_from": "2025-01-01", "date_to": "2026-06-30"},
    ),
    ("program", ["setting", "tier"], [("children_benefiting", ()), ("*", ())], {}),
    ("consultant", ["resource_type", "fiscal_year"], [("referral_total", ()), ("#units", ())], {}),
    ("consultant", [], [("referral_total", ())], {"resource_type": ["housing", "food"]}),
    (
        "consultant",
        ["region"],
        [("*", ())],
        {"extra.series": ["community_of_support"], "kind": ["group_session", "training"]},
    ),
    ("consultant", ["language"], [("hours", ())], {"setting": ["head_start", None]}),
    ("consultant", ["quarter"], [("rated_worthwhile", ())], {"extra.new_assignment": ["true"]}),
]


@pytest.fixture(scope="module")
def ca_rows() -> list[Row]:
    return make_rows(CA, n=700, seed=11, consultants=12)


@pytest.fixture(scope="module")
def reference(ca_rows: list[Row]) -> MemoryStore:
    ref = MemoryStore()
    ref.insert(ca_rows)
    return ref


def _close(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for x, y in zip(sorted(a, key=repr), sorted(b, key=repr), strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, tuple) and u and isinstance(u[0], float):
                assert all(
                    math.isclose(p, q, rel_tol=1e-9, abs_tol=1e-9)
                    for p, q in zip(u, v, strict=True)
                )
            else:
                assert u == v


def test_aggregates_equal_the_python_reference(
    store: Store, ca_rows: list[Row], reference: MemoryStore
) -> None:
    store.insert(ca_rows)
    hit_resource = hit_extra = False
    for unit, dims, measures, filters in QUERIES:
        got = store.partial_sums(unit, dims, measures, filters)
        want = reference.partial_sums(unit, dims, measures, filters)
        assert want, (dims, filters)  # each query selects something
        hit_resource |= "resource_type" in dims
        hit_extra |= any(k.startswith("extra.") for k in filters)
        _close(got, want)
        _close(
            store.cell_stats(unit, dims, measures, filters),
            reference.cell_stats(unit, dims, measures, filters),
        )
        m = len(measures)
        for norm in (None, "l1", "l2"):
            kw: dict[str, Any] = {
                "clip": [3.0] * m,
                "norm": norm,
                "norm_bounds": [7.5] * m,
                "max_cells": None,
            }
            _close(
                store.bounded_sums(unit, dims, measures, filters, **kw),
                reference.bounded_sums(unit, dims, measures, filters, **kw),
            )
    assert hit_resource and hit_extra


def test_max_cells_keeps_at_most_k_random_cells_per_unit(store: Store, ca_rows: list[Row]) -> None:
    store.insert(ca_rows)
    dims, measures = ["county", "kind"], [("#units", ())]
    per_unit = Counter(u for u, *_ in store.partial_sums("consultant", dims, measures, {}))
    k = 2
    seen: set[tuple[Any, ...]] = set()
    for _ in range(8):
        out = store.bounded_sums(
            "consultant",
            dims,
            measures,
            {},
            clip=[1.0],
            norm="max_cells",
            norm_bounds=[0],
            max_cells=k,
        )
        # every unit contributes exactly min(its cells, k) cells of weight 1
        assert sum(v[0] for _, v in out) == sum(min(n, k) for n in per_unit.values())
        seen.add(tuple(sorted((c, v) for c, v in out)))
    assert len(seen) > 1  # the choice is random, not a fixed rule


# -- ledger ---------------------------------------------------------------------------------
def _charge(store: Store, analyst: str, parts: list[str], amount: float, **kw: Any) -> Any:
    kw.setdefault("allotment", 1.0)
    kw.setdefault("cap", 2.0)
    kw.setdefault("entry", {})
    return store.charge(analyst, parts, amount, **kw)


def test_charge_spent_and_ledger(store: Store, reopen_store: Callable[[], Store] | None) -> None:
    assert store.spent("a-1", "FY2025") == 0.0
    assert _charge(store, "a-1", ["FY2025"], 0.4, entry={"query": "q1"}) == {
        "FY2025": pytest.approx(0.4)
    }
    got = _charge(store, "a-1", ["FY2025"], 0.6, entry={"query": "q2"})
    assert got == {"FY2025": pytest.approx(1.0)}
    with pytest.raises(BudgetExceeded) as info:
        _charge(store, "a-1", ["FY2025"], 0.01, entry={"query": "q3"})
    assert info.value.remaining == pytest.approx(0.0)
    assert (info.value.partition, info.value.limit) == ("FY2025", "analyst")
    _charge(store, "a-1", ["FY2026"], 0.5, entry={"query": "q4"})
    # a cached release costs nothing and is never refused, but it is logged
    _charge(store, "a-1", ["FY2025"], 0.0, entry={"query": "q5"})
    assert store.spent("a-1", "FY2025") == pytest.approx(1.0)
    assert store.spent("a-2", "FY2025") == 0.0
    assert store.spent(None, "FY2025") == pytest.approx(1.0)
    log = store.ledger("a-1")
    assert [e["entry"]["query"] for e in log] == ["q1", "q2", "q4", "q5"]
    assert [e["partitions"] for e in log] == [["FY2025"], ["FY2025"], ["FY2026"], ["FY2025"]]
    assert [e["amount"] for e in log] == pytest.approx([0.4, 0.6, 0.5, 0.0])
    assert all(e["analyst"] == "a-1" and e["at"].tzinfo is not None for e in log)
    if reopen_store is not None:  # persisted: another store object sees it
        again = reopen_store()
        assert again.spent("a-1", "FY2025") == pytest.approx(1.0)
        assert again.spent(None, "FY2026") == pytest.approx(0.5)
        assert [e["partitions"] for e in again.ledger("a-1")] == [
            ["FY2025"],
            ["FY2025"],
            ["FY2026"],
            ["FY2025"],
        ]
        again.close()


def test_a_charge_on_several_partitions_is_all_or_nothing(store: Store) -> None:
    # analysts share the lifetime cap of each partition
    _charge(store, "a-1", ["FY2024"], 0.9, cap=1.5)
    _charge(store, "a-2", ["FY2025"], 0.2, cap=1.5)
    # 0.7 fits a-3's allotment on both and the cap on FY2025, not on FY2024 (0.6 left there)
    with pytest.raises(BudgetExceeded) as info:
        _charge(store, "a-3", ["FY2025", "FY2024"], 0.7, cap=1.5)
    assert (info.value.partition, info.value.limit) == ("FY2024", "lifetime")
    assert info.value.remaining == pytest.approx(0.6)
    assert store.spent("a-3", "FY2025") == 0.0 and store.spent(None, "FY2025") == 0.2
    assert store.ledger("a-3") == []
    got = _charge(store, "a-3", ["FY2025", "FY2024"], 0.6, cap=1.5, entry={"q": 1})
    assert got == {"FY2024": pytest.approx(0.6), "FY2025": pytest.approx(0.6)}
    assert store.spent(None, "FY2024") == pytest.approx(1.5)
    assert store.spent(None, "FY2025") == pytest.approx(0.8)
    [row] = store.ledger("a-3")
    assert (row["analyst"], sorted(row["partitions"]), row["amount"]) == (
        "a-3",
        ["FY2024", "FY2025"],
        pytest.approx(0.6),
    )
    with pytest.raises(BudgetExceeded) as info:
        _charge(store, "a-4", ["FY2024"], 0.01, cap=1.5)
    assert info.value.limit == "lifetime"
    with pytest.raises(ValueError):
        _charge(store, "a-4", [], 0.1)


def test_concurrent_charges_never_overspend(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(i: int) -> bool:
        try:
            _charge(store, "a-9", ["FY2025"], 0.3, entry={"i": i})
        except BudgetExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:  # each thread its own connection
        granted = list(pool.map(attempt, range(12)))
    assert sum(granted) == 3
    assert store.spent("a-9", "FY2025") == pytest.approx(0.9)
    assert len(store.ledger("a-9")) == 3


def test_analysts_racing_for_the_lifetime_cap_never_overspend(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # twelve analysts, each well inside her allotment, racing for a cap of 1.0 on FY2025,
    # half of them charging FY2024 as well (partitions locked in the same order by all)
    def attempt(i: int) -> bool:
        parts = ["FY2025", "FY2024"] if i % 2 else ["FY2025"]
        try:
            _charge(store, f"a-{i}", parts, 0.3, allotment=2.0, cap=1.0, entry={"i": i})
        except BudgetExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        granted = list(pool.map(attempt, range(12)))
    assert sum(granted) == 3
    assert store.spent(None, "FY2025") == pytest.approx(0.9)
    assert store.spent(None, "FY2024") == pytest.approx(
        0.3 * sum(g for i, g in enumerate(granted) if i % 2)
    )
    assert sum(len(store.ledger(f"a-{i}")) for i in range(12)) == 3


# -- failures -------------------------------------------------------------------------------
def test_a_closed_store_refuses_everything(store: Store) -> None:
    store.close()
    calls: list[Callable[[], object]] = [
        lambda: store.insert(make_rows(n=1)),
        lambda: store.get("x"),
        lambda: store.rows(consultant="c"),
        lambda: store.partial_sums("consultant", [], [("*", ())], {}),
        lambda: store.charge("a", ["FY2025"], 0.1, allotment=1, cap=1, entry={}),
        lambda: store.spent("a", "FY2025"),
    ]
    for call in calls:
        with pytest.raises(StorageError, match="closed"):
            call()


# -- hostile text ---------------------------------------------------------------------------
HOSTILE = [
    'O\'Brien "quoted" `tick`',
    "'; DROP TABLE activities; --",
    "Robert'); DELETE FROM activities WHERE ('1'='1",
    "emoji 👩🏽‍🏫🧸 and 漢字",
    "RTL \u202eevil\u202c עברית مرحبا",
    "back\\slash %percent _under",
    "nul\x00byte",
    "x" * 10_000,
    "🧸" * 2_500,
]


def test_hostile_strings_below_validation_are_stored_exactly(store: Store) -> None:
    # the store itself never interprets text: straight to it, bypassing validation
    rows = []
    for i, text in enumerate(t for t in HOSTILE if "\x00" not in t):
        row = make_rows(n=1, seed=100 + i)[0]
        row["note"] = text
        row["consultant"] = text[:64]
        rows.append(row)
    store.insert(rows)
    for row in rows:
        assert content(store.get(row["id"])) == row
        assert [r["id"] for r in store.rows(consultant=row["consultant"])] == [row["id"]]


def test_counts_by_hand_per_unit(store: Store) -> None:
    rows = make_rows(n=120, consultants=5)
    store.insert(rows)
    want: dict[str, int] = defaultdict(int)
    for r in rows:
        want[r["consultant"]] += 1
    got = {u: n for u, _, n, _ in store.partial_sums("consultant", [], [("*", ())], {})}
    assert got == want


# -- publication ledger -----------------------------------------------------------------------
def test_the_publication_ledger_keeps_every_entry_in_order(
    store: Store, reopen_store: Callable[[], Store] | None
) -> None:
    assert store.publications() == []
    first = {"tables": {"t": {"cells": [{"x": 1.5, "flag": None}]}}, "data": "d1"}
    a = store.publish(first)
    b = store.publish({"tables": {}, "data": "d2", "text": "émoji 🧸 'quoted'"})
    assert a < b
    pubs = store.publications()
    assert [p["seq"] for p in pubs] == [a, b]
    assert pubs[0]["entry"] == first and pubs[1]["entry"]["text"] == "émoji 🧸 'quoted'"
    assert all(p["at"].tzinfo is not None for p in pubs)
    assert store.data_version() == 0  # publishing changes no data
    if reopen_store is not None:
        again = reopen_store()
        assert [p["entry"] for p in again.publications()] == [p["entry"] for p in pubs]
        again.close()
