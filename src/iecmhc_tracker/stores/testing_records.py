"""The Store contract for engagements and requests, as tests (part of ``stores.testing``,
which re-exports them: import that module's suite as it says)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .._columns import Row
from .._engagement import Engagement
from .._model import Activity
from .._profile import load_profile
from .._record_rows import engagement_row, request_row
from .._request import Request
from .._rows import to_row
from .contract import Store

_IL = load_profile("illinois")
_AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
E1 = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
E2 = uuid.UUID("00000000-0000-4000-8000-0000000000e2")


def engagement(**kw: Any) -> Row:
    base: dict[str, Any] = {
        "id": E1,
        "consultant": "c-1",
        "program": "p-1",
        "county": "cook",
        "target": "child_family",
        "opened": "2025-02-03",
        "reasons": ["trauma", "expulsion_risk"],
    }
    return engagement_row(Engagement.from_dict({**base, **kw}), _IL)


def request(**kw: Any) -> Row:
    base: dict[str, Any] = {
        "id": uuid.UUID("00000000-0000-4000-8000-0000000000a1"),
        "received": "2025-01-20",
        "source": "helpline",
        "county": "cook",
    }
    return request_row(Request.from_dict({**base, **kw}), _IL)


def _linked(n: int, hours: str, day: str, eid: uuid.UUID = E1, **kw: Any) -> Row:
    a = Activity(
        id=uuid.UUID(int=n),
        consultant="c-1",
        program="p-1",
        date=day,
        county="cook",
        kind="consultation",
        hours=hours,
        engagement=eid,
        **kw,
    )
    return to_row(a, _IL)


def test_records_round_trip_exactly(store: Store) -> None:
    e = engagement(
        closed="2025-05-30",
        closure_reason="goals_met",
        placement_at_close="retained",
        goals_set=3,
        goals_met=2,
    )
    r = request(assigned="2025-01-27", consultant="c-1", engagement=str(E1))
    assert store.insert_records({"engagement": [e], "request": [r]}) == (
        [e["id"], r["id"]],
        [],
        [],
    )
    assert store.records("engagement") == [e]
    assert store.records("request") == [r]
    got = store.records("engagement")[0]
    assert got["opened"] == dt.date(2025, 2, 3) and got["closed"] == dt.date(2025, 5, 30)
    assert got["reasons"] == "expulsion_risk,trauma" and got["region"] == "cook"


def test_records_are_idempotent_and_a_conflict_writes_nothing(store: Store) -> None:
    e = engagement()
    store.insert_records({"engagement": [e]})
    version = store.data_version()
    assert store.insert_records({"engagement": [e]}) == ([], [e["id"]], [])
    assert store.data_version() == version
    changed = engagement(setting="head_start")
    other = engagement(id=E2)
    assert store.insert_records({"engagement": [other, changed]}) == ([], [], [e["id"]])
    assert store.records("engagement") == [e]
    assert store.data_version() == version


def test_a_mixed_batch_is_all_or_nothing(store: Store) -> None:
    store.insert_records({"engagement": [engagement()]})
    act = _linked(1, "1.5", "2025-02-10")
    batch = {"activity": [act], "engagement": [engagement(setting="head_start")]}
    assert store.insert_records(batch) == ([], [], [str(E1)])
    assert store.get(act["id"]) is None
    ok = {"activity": [act], "request": [request()]}
    assert store.insert_records(ok)[0] == [act["id"], request()["id"]]
    stored = store.get(act["id"])
    assert stored is not None and stored["engagement"] == str(E1)


def test_records_of_one_consultant_one_program_or_some_ids(store: Store) -> None:
    mine = engagement()
    hers = engagement(id=E2, consultant="c-2", program="p-2")
    store.insert_records({"engagement": [hers, mine]})
    assert store.records("engagement", consultant="c-1") == [mine]
    assert store.records("engagement", program="p-2") == [hers]
    assert store.records("engagement", ids=[str(E2)]) == [hers]
    assert store.records("engagement", consultant="c-9") == []


def test_dosage_sums_the_live_linked_activities(store: Store) -> None:
    rows = [
        _linked(1, "1.5", "2025-02-10"),
        _linked(2, "2", "2025-03-03"),
        _linked(3, "4", "2025-03-17"),
        _linked(4, "1", "2025-02-12", eid=E2),
        to_row(Activity("c-1", "2025-02-11", "cook", "consultation", hours="3"), _IL),
    ]
    store.insert(rows)
    store.delete(rows[2]["id"], by="c-1", at=_AT)
    assert store.dosage() == {
        str(E1): (3.5, 2, dt.date(2025, 2, 10), dt.date(2025, 3, 3)),
        str(E2): (1.0, 1, dt.date(2025, 2, 12), dt.date(2025, 2, 12)),
    }
    assert store.dosage([str(E2)]) == {
        str(E2): (1.0, 1, dt.date(2025, 2, 12), dt.date(2025, 2, 12))
    }
