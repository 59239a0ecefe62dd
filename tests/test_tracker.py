"""The public surface end to end on the memory store: record, bulk import, own-rows views."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

import iecmhc_tracker as it
from strategies import TODAY, activity_dicts

IL = it.load_profile("illinois")


def _one(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "consultant": "c-7f3a",
        "program": "p-0192",
        "date": "2025-03-04",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
        "hours": "1.5",
    }
    base.update(changes)
    return base


def test_record_returns_the_stored_activity(memory_tracker: it.Tracker) -> None:
    stored = memory_tracker.record(_one())
    [back] = memory_tracker.as_consultant("c-7f3a").activities()
    assert back == stored
    assert memory_tracker.as_consultant("c-other").activities() == []


def test_record_rejects_invalid_and_stores_nothing(memory_tracker: it.Tracker) -> None:
    with pytest.raises(it.ValidationError):
        memory_tracker.record(_one(county="atlantis"))
    assert memory_tracker.as_consultant("c-7f3a").activities() == []


def test_same_id_other_content_is_a_conflict(memory_tracker: it.Tracker) -> None:
    a = memory_tracker.record(_one())
    memory_tracker.record(a)  # same content again: a no-op
    with pytest.raises(it.ConflictError):
        memory_tracker.record(a.evolve(hours=2))
    [back] = memory_tracker.as_consultant("c-7f3a").activities()
    assert back.hours == a.hours


def test_record_many_is_all_or_nothing_and_reports_row_numbers(
    memory_tracker: it.Tracker,
) -> None:
    rows = [_one() for _ in range(5)]
    rows[3]["hours"] = "99"
    result = memory_tracker.record_many(rows)
    assert (result.inserted, result.rejected_rows) == (0, [4])
    assert result.rejected[0].field == "hours"
    assert memory_tracker.as_consultant("c-7f3a").activities() == []
    rows[3]["hours"] = "2"
    assert memory_tracker.record_many(rows).inserted == 5


def test_record_many_reports_conflicts_and_writes_nothing_of_that_batch(
    memory_tracker: it.Tracker,
) -> None:
    first = _one()
    memory_tracker.record(first)
    batch = [_one(), dict(first, hours="3")]
    result = memory_tracker.record_many(batch)
    assert result.inserted == 0 and result.rejected[0].code == "conflict"
    assert result.rejected[0].row == 2
    assert len(memory_tracker.as_consultant("c-7f3a").activities()) == 1


@given(data=st.lists(activity_dicts(IL), min_size=1, max_size=20), repeats=st.integers(1, 3))
def test_import_is_idempotent(data: list[dict[str, object]], repeats: int) -> None:
    tracker = it.Tracker.open("memory://", IL, today=lambda: TODAY)
    first = tracker.record_many(data)
    unique = len({d["id"] for d in data})
    assert first.inserted == unique and first.ok
    for _ in range(repeats):
        again = tracker.record_many(data)
        assert (again.inserted, again.duplicates) == (0, len(data))
    stored = {
        a.id
        for c in {str(d["consultant"]) for d in data}
        for a in tracker.as_consultant(c).activities()
    }
    assert stored == {uuid.UUID(str(d["id"])) for d in data}


def test_consultant_can_amend_and_delete_only_their_own(memory_tracker: it.Tracker) -> None:
    mine = memory_tracker.record(_one())
    theirs = memory_tracker.record(_one(consultant="c-other"))
    me = memory_tracker.as_consultant("c-7f3a")
    me.amend(mine.evolve(hours=3))
    assert me.activities()[0].hours == 3
    with pytest.raises(it.Forbidden):
        me.amend(theirs.evolve(hours=5))
    with pytest.raises(it.NotFound):
        me.delete(theirs.id)
    me.delete(mine.id)
    assert me.activities() == []
    assert len(memory_tracker.as_consultant("c-other").activities()) == 1
    row = memory_tracker.store.get(str(mine.id))
    assert row is not None and row["deleted_by"] == "c-7f3a" and row["deleted_at"] is not None


def test_consultant_summary_is_exact(memory_tracker: it.Tracker) -> None:
    memory_tracker.record(_one(hours="1.25"))
    memory_tracker.record(_one(hours="2", consultation_type="programmatic"))
    memory_tracker.record(_one(kind="training", consultation_type=None, hours="3"))
    memory_tracker.record(
        _one(
            kind="referral_only",
            consultation_type=None,
            hours=None,
            referrals={"housing": 2, "food": 1},
        )
    )
    memory_tracker.record(_one(consultant="c-other", hours="7"))
    s = memory_tracker.as_consultant("c-7f3a").summary(fiscal_year=2025)
    assert s["activities"] == 4
    assert s["hours"] == pytest.approx(6.25)
    assert s["training_hours"] == pytest.approx(3)
    assert s["referrals_by_resource_type"] == {"food": 1, "housing": 2}
    assert s["hours_by"]["consultation_type"] == {"classroom": 1.25, "programmatic": 2.0}


def test_program_sees_its_contacts_only(memory_tracker: it.Tracker) -> None:
    memory_tracker.record(_one(note="Reflected on transitions."))
    memory_tracker.record(_one(program="p-other"))
    contacts = memory_tracker.as_program("p-0192").contacts()
    assert len(contacts) == 1 and contacts[0]["consultant"] == "c-7f3a"
    assert "note" not in contacts[0]


def test_future_dates_use_the_trackers_clock() -> None:
    t = it.Tracker.open("memory://", IL, today=lambda: dt.date(2025, 3, 1))
    with pytest.raises(it.ValidationError) as info:
        t.record(_one(date="2025-03-04"))
    assert info.value.problems[0].code == "future"


def test_unknown_store_scheme_is_a_clear_storage_error() -> None:
    with pytest.raises(it.StorageError, match="unknown store scheme"):
        it.Tracker.open("oracle://x/y")
    with pytest.raises(it.StorageError, match="not a store URL"):
        it.Tracker.open("tracker.db")


def test_synthetic_data_is_valid_for_every_profile(any_profile: it.Profile) -> None:
    acts = list(it.generate_activities(any_profile, 800, consultants=20, today=TODAY))
    for a in acts:
        it.validate(a, any_profile, today=TODAY)
    assert len({a.kind for a in acts}) == len(any_profile.kinds)


def test_record_many_batches_on_every_backend(store_url: str) -> None:
    # rows reach the store while later ones are still being checked (PostgreSQL streams them
    # into COPY): an invalid record late in a batch must still undo the whole batch
    rows = [_one(date=f"2025-03-{1 + i % 28:02d}") for i in range(25)]
    rows[8]["hours"] = "99"  # batch 1 (rows 1-10): invalid at row 9
    rows[13]["county"] = "atlantis"  # batch 2 (rows 11-20): invalid at row 14 ...
    rows[18]["county"] = "atlantis"  # ... and at row 19: both reported
    conflict = dict(rows[0], hours="3")  # batch 3: row 21 repeats row 1's id with other content
    rows[20] = conflict
    seen: list[int] = []
    with it.Tracker.open(store_url, IL, today=lambda: TODAY) as t:
        result = t.record_many(rows, batch_size=10, progress=seen.append)
        stored = {str(a.id) for a in t.as_consultant("c-7f3a").activities()}
        again = t.record_many([_one(), dict(conflict, hours="4")])
        assert [(p.code, p.row) for p in again.rejected] == [("conflict", 2)]
        assert len(t.as_consultant("c-7f3a").activities()) == 5
    assert seen == [10, 20, 25] and result.total == 25
    assert result.rejected_rows == [9, 14, 19]
    assert result.inserted == 5 and result.duplicates == 0
    # batches 1 and 2 wrote nothing; batch 3 had no stored row 1 to conflict with
    assert stored == {str(r["id"]) for r in rows[20:]}
