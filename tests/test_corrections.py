"""Corrections through the consultant's view: partial amends, deletes, restores, and what
re-recording a deleted id does; aggregates and the publication ledger follow every change."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

import iecmhc_tracker as it
from strategies import TODAY


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
        "modality": "onsite",
        "hours": "1.5",
        "methods": ["reflecting"],
        "note": "Talked through transitions.",
    }
    base.update(changes)
    return base


@pytest.fixture()
def tracker() -> it.Tracker:
    return it.Tracker.open("memory://", "illinois", today=lambda: TODAY)


def test_amend_by_id_changes_only_the_fields_given(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    got = me.amend(stored.id, hours="2")
    assert got.hours == Decimal("2")
    [back] = me.activities()
    assert back.hours == Decimal("2")
    # everything not named is kept as it was
    assert back == stored.evolve(hours=Decimal("2"))
    assert back.note == "Talked through transitions." and back.methods == ("reflecting",)
    me.amend(str(stored.id).upper(), note=None, modality="virtual")  # any UUID spelling
    [back] = me.activities()
    assert (back.note, back.modality, back.hours) == (None, "virtual", Decimal("2"))


def test_a_partial_mapping_amends_as_the_keyword_form_does(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    me.amend({"id": str(stored.id), "hours": "2"})  # once six "is required" problems
    [back] = me.activities()
    assert back == stored.evolve(hours=Decimal("2"))


def test_a_whole_activity_still_replaces_the_stored_one(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    me.amend(stored.evolve(hours="3", note=None))
    assert me.activities() == [stored.evolve(hours=Decimal("3"), note=None)]
    me.amend(stored, county="lake")  # changes beside a whole activity apply on top of it
    assert me.activities() == [stored.evolve(county="lake")]
    with pytest.raises(it.ValidationError) as info:
        me.amend(stored, colour="blue")
    assert [p.code for p in info.value.problems] == ["unknown_field"]


def test_a_partial_amend_is_validated_as_a_whole_and_stores_nothing_bad(
    tracker: it.Tracker,
) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    with pytest.raises(it.ValidationError) as info:
        me.amend(stored.id, county="atlantis", hours="30")
    assert info.value.fields == {"county", "hours"}  # not "is required" for kept fields
    # a kind that forbids a kept field is a problem of the whole record
    with pytest.raises(it.ValidationError) as info:
        me.amend(stored.id, kind="training")
    assert "consultation_type" in info.value.fields
    assert me.activities() == [stored]


def test_amend_names_the_activity_and_never_changes_its_id_or_owner(
    tracker: it.Tracker,
) -> None:
    stored = tracker.record(_one())
    theirs = tracker.record(_one(consultant="c-other"))
    me = tracker.as_consultant("c-7f3a")
    with pytest.raises(it.ValidationError, match="id"):
        me.amend(stored.id, id=str(uuid.uuid4()))
    with pytest.raises(it.ValidationError, match="id"):
        me.amend({"hours": "2"})
    with pytest.raises(it.Forbidden):
        me.amend(stored.id, consultant="c-other")
    with pytest.raises(it.NotFound, match="no stored activity"):
        me.amend(theirs.id, hours="2")  # the same answer as for an unknown id
    with pytest.raises(it.NotFound, match="no stored activity"):
        me.amend(uuid.uuid4(), hours="2")
    with pytest.raises(it.NotFound):
        me.amend("not-a-uuid", hours="2")
    assert tracker.as_consultant("c-other").activities() == [theirs]


def test_delete_then_restore_brings_the_activity_back(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    me.delete(stored.id)
    assert me.activities() == []
    assert me.restore(stored.id) == stored
    assert me.activities() == [stored]
    assert me.summary()["hours"] == 1.5
    row = tracker.store.get(str(stored.id))
    assert row is not None and row["deleted_at"] is None and row["updated_by"] == "c-7f3a"
    with pytest.raises(it.ConflictError, match="not deleted"):
        me.restore(stored.id)


def test_only_the_owner_restores_and_unknown_ids_are_not_found(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    tracker.as_consultant("c-7f3a").delete(stored.id)
    other = tracker.as_consultant("c-other")
    with pytest.raises(it.NotFound, match="no stored activity"):
        other.restore(stored.id)
    with pytest.raises(it.NotFound):
        other.restore(uuid.uuid4())
    assert tracker.as_consultant("c-7f3a").activities() == []


def test_a_deleted_id_says_how_to_restore_it(tracker: it.Tracker) -> None:
    stored = tracker.record(_one())
    me = tracker.as_consultant("c-7f3a")
    me.delete(stored.id)
    with pytest.raises(it.NotFound, match=r"deleted on \d{4}-\d\d-\d\d .*restore"):
        me.amend(stored.id, hours="2")
    with pytest.raises(it.NotFound, match="restore"):
        me.delete(stored.id)
    # re-recording it, same content or other, is refused with the same advice
    with pytest.raises(it.ConflictError, match=r"deleted on .*restore"):
        me.record(_one(id=str(stored.id)))
    with pytest.raises(it.ConflictError, match=r"deleted on .*restore"):
        tracker.record(stored.to_dict())
    assert me.activities() == []
    # an import counts it as already received and does not bring it back
    result = tracker.record_many([stored.to_dict()])
    assert (result.inserted, result.duplicates, result.ok) == (0, 1, True)
    assert me.activities() == []


def test_another_consultants_deleted_id_tells_nothing_of_it(tracker: it.Tracker) -> None:
    theirs = tracker.record(_one(consultant="c-other"))
    tracker.as_consultant("c-other").delete(theirs.id)
    me = tracker.as_consultant("c-7f3a")
    with pytest.raises(it.ConflictError) as info:
        me.record(_one(id=str(theirs.id)))
    assert "deleted" not in str(info.value) and "restore" not in str(info.value)


def test_published_tables_and_the_ledger_follow_delete_and_restore(
    tracker: it.Tracker,
) -> None:
    tracker.record_many(
        it.generate_activities(tracker.profile, 400, consultants=12, seed=5, today=TODAY)
    )
    mine = next(a for a in _all(tracker) if a.kind == "consultation" and a.hours)
    me = tracker.as_consultant(mine.consultant)
    state = tracker.as_state()

    def snapshot() -> dict[str, object]:
        return {n: t.to_dict()["cells"] for n, t in state.tables().items()}

    before = snapshot()
    me.delete(mine.id)
    deleted = snapshot()
    assert deleted != before
    me.restore(mine.id)
    assert snapshot() == before  # the same data, the same published numbers
    digests = [p["entry"]["data"] for p in tracker.store.publications()]
    assert len(digests) == 3 and len(set(digests)) == 3  # each change of data is a new state


def _all(tracker: it.Tracker) -> list[it.Activity]:
    rows = []
    for n in range(12):
        rows.extend(tracker.as_consultant(f"c-{n:04d}").activities())
    return rows


def test_evolve_reads_values_as_the_constructor_does() -> None:
    a = it.Activity.from_dict(_one())
    b = a.evolve(hours="2.25", date="2025-04-01")
    assert (b.hours, b.date, b.id) == (Decimal("2.25"), dt.date(2025, 4, 1), a.id)
    assert a.hours == Decimal("1.5")  # the original is unchanged


def test_a_release_after_a_restore_is_drawn_afresh(tmp_path: object) -> None:
    t = it.Tracker.open("memory://", "illinois", today=lambda: TODAY, cache_dir=str(tmp_path))
    t.record_many(it.generate_activities(t.profile, 300, consultants=10, seed=2, today=TODAY))
    mine = next(a for a in _all(t) if a.hours)
    lab = t.as_researcher("a-1")
    query = it.Query(measures=["hours"], by=["region"])
    lab.release(query, epsilon=0.1)
    spent = _spent(lab)
    lab.release(query, epsilon=0.1)
    assert _spent(lab) == pytest.approx(spent)  # the same data: served from the cache
    me = t.as_consultant(mine.consultant)
    me.delete(mine.id)
    me.restore(mine.id)
    lab.release(query, epsilon=0.1)
    assert spent > 0
    assert _spent(lab) == pytest.approx(2 * spent)  # a change of data: charged again
    t.close()


def _spent(lab: it.ResearcherSession) -> float:
    return sum(y.spent for y in lab.budget.years)
