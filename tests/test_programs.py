"""Programs reached: the distinct count of programs a state table publishes per fiscal year,
where a profile may ask for it, and the funding page that shows it."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker._reports import funding_data, funding_html
from iecmhc_tracker.cli import app

TODAY = dt.date(2026, 8, 1)  # FY2027 (July start) has begun: FY2025 and FY2026 are complete
DAY_FY2025 = dt.date(2024, 9, 2)
DAY_FY2026 = dt.date(2025, 9, 1)


def act(
    consultant: str, day: dt.date, program: str | None, kind: str = "consultation"
) -> it.Activity:
    return it.Activity(
        id=uuid.uuid4(),
        consultant=consultant,
        date=day,
        county="cook",
        kind=kind,
        setting="child_care",
        consultation_type="classroom" if kind == "consultation" else None,
        hours=Decimal("1.5"),
        program=program,
    )


def known_activities() -> list[it.Activity]:
    """FY2026: 14 consultation activities by 4 consultants at programs p1–p5 (p1 and p2 by two
    consultants each), 2 without a program, and training at p8 and p9 (another kind). FY2025:
    12 consultation activities by 3 consultants, all at p1 and p2."""
    fy26 = [
        act("c1", DAY_FY2026, "p1"),
        act("c1", DAY_FY2026, "p1"),
        act("c1", DAY_FY2026, "p2"),
        act("c2", DAY_FY2026, "p1"),
        act("c2", DAY_FY2026, "p3"),
        act("c2", DAY_FY2026, "p3"),
        act("c3", DAY_FY2026, "p2"),
        act("c3", DAY_FY2026, "p4"),
        act("c3", DAY_FY2026, "p4"),
        act("c4", DAY_FY2026, "p5"),
        act("c4", DAY_FY2026, "p5"),
        act("c4", DAY_FY2026, "p5"),
        act("c4", DAY_FY2026, None),
        act("c1", DAY_FY2026, None),
        act("c1", DAY_FY2026, "p8", kind="training"),
        act("c2", DAY_FY2026, "p9", kind="training"),
    ]
    fy25 = [act(f"c{1 + i % 3}", DAY_FY2025, f"p{1 + i % 2}") for i in range(12)]
    return fy26 + fy25


def published(url: str) -> it.Table:
    tracker = it.Tracker.open(url, "illinois", today=lambda: TODAY)
    try:
        result = tracker.record_many(known_activities())
        assert result.ok, result.rejected[:3]
        return tracker.as_state().tables()["programs_reached"]
    finally:
        tracker.close()


def test_programs_reached_is_the_count_by_hand_on_every_backend(store_url: str) -> None:
    table = published(store_url)
    assert table.measures == ("programs", "activities")
    # FY2026: p1–p5 (not the training programs p8, p9; not the two without a program)
    assert table.cell(2026).values == {"programs": 5.0, "activities": 14.0}
    assert table.cell(2026).reason is None
    # FY2025 reaches two programs: fewer than min_consultants (3), so the year is withheld
    assert table.cell(2025).values == {"programs": None, "activities": None}
    assert table.cell(2025).reason == "withheld"
    # statewide per year only: no total over the years
    assert table.margins == ()


def test_a_withheld_year_is_withheld_in_every_table_that_counts_it() -> None:
    tables = _tables(known_activities())
    by_type = tables["hours_by_type"]
    assert by_type.cell(None, 2025).reason == "withheld"
    assert by_type.cell(None, 2026).values["activities"] == 14.0


def _tables(acts: list[it.Activity]) -> dict[str, it.Table]:
    tracker = it.Tracker.open("memory://", "illinois", today=lambda: TODAY)
    assert tracker.record_many(acts).ok
    return tracker.as_state().tables()


def test_the_funding_page_shows_programs_reached_beside_children() -> None:
    profile = it.load_profile("illinois")
    # FY2024: 12 activities by 3 consultants at p1–p4, published
    fy24 = [act(f"c{1 + i % 3}", dt.date(2023, 9, 4), f"p{1 + i % 4}") for i in range(12)]
    tables = list(_tables(known_activities() + fy24).values())
    data = funding_data(profile, tables, through=2026)
    reach = {r["label"]: r["values"] for r in data["reach"]}
    assert data["years"] == [2024, 2025, 2026]
    assert reach["Programs reached through consultation"] == [4.0, None, 5.0]
    assert "not counted" not in data["reach_note"]
    html = funding_html(profile, data)
    row = re.search(
        r"<tr><th scope=\"row\">Programs reached through consultation</th>(.*?)</tr>", html, re.S
    )
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[0] == "4" and "withheld" in cells[1] and cells[2] == "5"
    assert "Programs reached are not counted" not in html
    assert "Children in child-and-family engagements" in html


# -- where a profile may publish programs -------------------------------------------------


def _with_table(tmp_path: Path, table: str) -> Path:
    text = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text()
    head, rest = text.split("[privacy.suppression]", 1)
    path = tmp_path / "custom.toml"
    path.write_text(head + table + "\n[privacy.suppression]" + rest, encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text().splitlines()
    return max(i for i, ln in enumerate(lines, 1) if needle in ln)


BY_COUNTY = """
[[tables]]
name = "programs_by_county"
measures = ["programs", "activities"]
by = ["county", "fiscal_year"]
where = { kind = ["consultation"] }
"""


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (
            BY_COUNTY,
            [
                "programs_by_county",
                "statewide per fiscal year",
                'by = ["fiscal_year"]',
                "add up over places",
            ],
        ),
        (
            BY_COUNTY.replace('"county", ', "").replace(
                '"consultation"', '"consultation", "training"'
            ),
            ["differs", "programs_reached", "same activities", "same where"],
        ),
        (
            BY_COUNTY.replace('"county", ', "").replace("consultation", "training"),
            ["programs_reached", "same activities"],
        ),
        (
            BY_COUNTY.replace('"county", ', "").replace(
                'where = { kind = ["consultation"] }',
                'where = { kind = ["consultation"] }\nmode = "dp"\nepsilon = 0.5',
            ),
            ["suppression only"],
        ),
        (
            BY_COUNTY.replace('"county", ', "")
            .replace('["programs", "activities"]', '["programs", "engagements"]')
            .replace('where = { kind = ["consultation"] }', ""),
            ["engagement or request measures", "activity measures"],
        ),
        (
            BY_COUNTY.replace('"county", ', "").replace(
                '["programs", "activities"]', '["programs"]'
            ),
            ["without their activities", 'measures = ["programs", "activities"]'],
        ),
        (
            BY_COUNTY.replace('"county", ', "").replace(
                'kind = ["consultation"]', 'kind = ["consultation"], county = ["cook"]'
            ),
            ["filtered on county", "statewide only", "kind alone"],
        ),
    ],
    ids=["by_county", "more_kinds", "training", "dp", "engagements", "alone", "one_county"],
)
def test_programs_elsewhere_are_refused_with_the_line(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    path = _with_table(tmp_path, table)
    with pytest.raises(it.ProfileError) as err:
        it.load_profile(path)
    message = str(err.value)
    for w in words:
        assert w in message, message
    # a filter on a place is the where's fault; everything else the measures'
    needle = 'county = ["cook"]' if "filtered on county" in words else 'measures = ["programs'
    line = _line_of(path, needle)
    assert f"line {line}" in message or f":{line}" in message, message


def test_profile_check_refuses_a_programs_table_by_county(tmp_path: Path) -> None:
    path = _with_table(tmp_path, BY_COUNTY)
    done = CliRunner().invoke(app, ["profile", "check", str(path)])
    assert done.exit_code != 0
    out = " ".join(done.output.split())
    assert "statewide per fiscal year" in out and "programs_by_county" in out
    assert "Traceback" not in done.output


def test_the_shipped_profiles_publish_programs_statewide_per_year() -> None:
    for name in ("illinois", "california", "montana"):
        specs = [t for t in it.load_profile(name).tables if "programs" in t.measures]
        assert [t.by for t in specs] == [("fiscal_year",)], name
