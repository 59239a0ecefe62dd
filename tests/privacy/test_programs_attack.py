"""Attacks on the published counts of programs reached: a state user who sees every table of a
release, the activity attacker's bounds included, cannot recover a withheld year's programs.

The first tests check the program attacker itself on hand-made tables that publish what the
library refuses (a total over the years, programs of overlapping kinds): there it recovers the
withheld count, which is why the library does not publish them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import iecmhc_tracker as it
from privacy.attacker import Attacker
from privacy.distinct import ProgramAttack, programs_truth
from privacy.test_attacks import BY_KIND, KNOWS, REGION_COUNTY, crafted

TODAY = dt.date(2027, 8, 1)  # FY2026 and FY2027 (July start) are complete
#: the years of the hand-made tables, and of the releases (the crafted profile starts FY2026)
YEARS = (2025, 2026)
RELEASED = (2026, 2027)
DAY = {y: dt.date(y - 1, 9, 1) for y in (2025, 2026, 2027)}

PROGRAMS_TABLE = """
[[tables]]
name = "programs_reached"
measures = ["programs", "activities"]
by = ["fiscal_year"]
where = { kind = ["consultation"] }
"""


def act(
    consultant: str,
    year: int,
    program: str | None,
    *,
    region: str = "north",
    kind: str = "consultation",
    i: int = 0,
) -> it.Activity:
    return it.Activity(
        id=uuid.uuid4(),
        consultant=consultant,
        date=DAY[year] + dt.timedelta(days=i % 200),
        county=REGION_COUNTY[region],
        kind=kind,
        setting="child_care",
        consultation_type="classroom" if kind == "consultation" else None,
        hours=Decimal("1.5"),
        program=program,
    )


def busy_year(year: int, programs: int = 40) -> list[it.Activity]:
    """A year of ordinary activity: every region, four consultants each, many programs."""
    out = []
    for r, region in enumerate(REGION_COUNTY):
        for i in range(30):
            out.append(
                act(
                    f"{region}-{i % 4}",
                    year,
                    f"{year}-p{(r * 30 + i) % programs}",
                    region=region,
                    i=i,
                )
            )
        for i in range(12):
            out.append(
                act(f"{region}-{i % 4}", year, f"t{i % 5}", region=region, kind="training", i=i)
            )
    return out


# -- the program attacker on hand-made tables -------------------------------------------------


def hand(
    profile: it.Profile, name: str, kinds: tuple[str, ...], values: Mapping[Any, float | None]
) -> it.Table:
    """Programs by fiscal year; ``values`` maps a year (``None``: all years) to its count."""

    def cell(year: Any) -> it.TableCell:
        v = values[year]
        return it.TableCell(
            (year,),
            ("Total" if year is None else f"FY{year}",),
            {"programs": v},
            None if v is not None else "withheld",
        )

    return it.Table(
        name=name,
        title=name,
        profile=profile.name,
        profile_label=profile.label,
        measures=("programs",),
        dims=("fiscal_year",),
        where={"kind": kinds},
        policy=profile.suppression,
        generated_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC),
        fiscal_years=YEARS,
        cells=tuple(cell(y) for y in YEARS),
        margins=(cell(None),) if None in values else (),
    )


def test_the_attacker_recovers_a_year_from_an_all_years_total(tmp_path: Path) -> None:
    profile = crafted(tmp_path, BY_KIND)
    acts = busy_year(2026) + [act(f"x{i % 2}", 2025, f"old{i}", i=i) for i in range(30)]
    truth = programs_truth(profile, acts)
    shown = {2025: None, 2026: 40.0, None: 70.0}
    table = hand(profile, "t", ("consultation",), shown)
    # distinct over the years is at most their sum: the withheld year holds at least 30
    (f,) = ProgramAttack([table], {}).attack(truth)
    assert (f.value, f.low) == (30, 30) and f.narrowed
    # and at most its 30 activities, should the attacker bound those: pinned
    (f,) = ProgramAttack([table], {("t", (2025,)): 30.0}).attack(truth)
    assert (f.low, f.high) == (30, 30) and f.exact and f.recovered


def test_the_attacker_recovers_a_kind_from_the_union_of_kinds(tmp_path: Path) -> None:
    profile = crafted(tmp_path, BY_KIND)
    acts = [a for a in busy_year(2026) if a.kind == "consultation"]
    acts += [act(f"y{i % 2}", 2026, f"t{i % 20}", kind="training", i=i) for i in range(24)]
    truth = programs_truth(profile, acts)
    both = hand(profile, "both", ("consultation", "training"), {2025: 0.0, 2026: 60.0})
    consult = hand(profile, "consult", ("consultation",), {2025: 0.0, 2026: 40.0})
    training = hand(profile, "training", ("training",), {2025: 0.0, 2026: None})
    (f,) = ProgramAttack([both, consult, training], {}).attack(truth)
    # the union counts at most the sum of its kinds: training reached at least 20
    assert (f.value, f.low, f.high) == (20, 20, 60) and f.narrowed and not f.recovered
    (f,) = ProgramAttack([both, consult, training], {("training", (2026,)): 24.0}).attack(truth)
    assert f.recovered


# -- the library's release ---------------------------------------------------------------------


def release(tmp_path: Path, acts: list[it.Activity]) -> tuple[it.Profile, dict[str, it.Table]]:
    profile = crafted(tmp_path, BY_KIND + PROGRAMS_TABLE)
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    result = tracker.record_many(acts)
    assert result.ok, result.rejected[:3]
    return profile, tracker.as_state().tables()


def attack_everything(
    profile: it.Profile, tables: Mapping[str, it.Table], acts: list[it.Activity]
) -> list[Any]:
    att = Attacker(profile, fiscal_years=RELEASED, **KNOWS)
    att.observe(tables)
    report = att.attack([acts])
    assert not report.recovered, str(report)
    findings = ProgramAttack.after(tables.values(), report).attack(programs_truth(profile, acts))
    for f in findings:
        print(f)
    return findings


@pytest.mark.parametrize("why", ["few_consultants", "few_programs"])
def test_a_withheld_years_programs_cannot_be_recovered(tmp_path: Path, why: str) -> None:
    if why == "few_consultants":  # FY2026: 2 consultants at 9 programs
        old = [act(f"x{i % 2}", 2026, f"old{i % 9}", i=i) for i in range(14)]
    else:  # FY2026: 4 consultants, 14 activities, at 2 programs only
        old = [act(f"x{i % 4}", 2026, f"old{i % 2}", i=i) for i in range(14)]
    acts = busy_year(2027) + old
    profile, tables = release(tmp_path, acts)
    reached = tables["programs_reached"]
    assert reached.cell(2026).values == {"programs": None, "activities": None}
    assert reached.cell(2027).values["programs"] == 40.0
    assert reached.margins == ()  # no total over the years
    findings = attack_everything(profile, tables, acts)
    withheld = [f for f in findings if f.measure == "programs"]
    assert [f.coords for f in withheld] == [(2026,)]
    assert not any(f.recovered for f in withheld), "\n".join(map(str, withheld))


def test_a_by_county_programs_table_is_refused(tmp_path: Path) -> None:
    by_county = PROGRAMS_TABLE.replace('["fiscal_year"]', '["county", "fiscal_year"]')
    with pytest.raises(it.ProfileError, match="statewide per fiscal year"):
        crafted(tmp_path, BY_KIND + by_county)


def test_programs_are_refused_in_dp_queries_unless_the_program_is_the_unit(tmp_path: Path) -> None:
    acts = busy_year(2027)
    profile, _ = release(tmp_path, acts)
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    tracker.record_many(acts)
    lab = tracker.as_researcher("analyst")
    with pytest.raises(it.ValidationError, match="privacy unit"):
        lab.release(it.Query(measures=["programs"], by=["fiscal_year"]), epsilon=0.5)
    assert lab.budget[2027].remaining == lab.budget[2027].allotment  # nothing charged


def test_programs_are_released_with_noise_when_the_program_is_the_unit(tmp_path: Path) -> None:
    profile = crafted(tmp_path, BY_KIND + '\n[privacy.dp]\nunit = "program"\n')
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    acts = busy_year(2027)
    tracker.record_many(acts)
    rel = tracker.as_researcher("analyst").release(
        it.Query(measures=["programs"], by=["fiscal_year"], where={"kind": ["consultation"]}),
        epsilon=1.0,
    )
    assert rel.metadata["unit"] == "program"
    # one program adds at most 1 to each cell: a distinct count of the unit
    # one program adds at most 1 to each of the three fiscal years' cells
    assert rel.metadata["bounds"] == {"programs": 1.0}
    assert rel.metadata["sensitivity"]["programs"] == pytest.approx(3.0)
