"""Profiles: the shipped ones load with the seeds' codes; broken ones fail naming the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

import iecmhc_tracker as it
from iecmhc_tracker._profile import _read, profile_path


def test_shipped_profiles_have_their_states_shape() -> None:
    il, ca, mt = (it.load_profile(n) for n in ("illinois", "california", "montana"))
    assert (len(il.counties), len(ca.counties), len(mt.counties)) == (102, 58, 56)
    assert il.fiscal_year_start_month == 7
    assert {
        "early_intervention",
        "home_visiting",
        "head_start",
        "early_head_start",
        "preschool",
        "child_care",
    } == il.code_set("setting")
    assert il.code_set("consultation_type") == {"programmatic", "classroom", "child_family"}
    assert il.code_set("methods") == {
        "reflecting",
        "modeling",
        "exploring",
        "problem_solving",
        "training",
    }
    assert len(il.code_set("competencies")) == 8
    assert ca.code_set("tier") == {"universal", "targeted", "intensive"}
    assert {"helpline_call", "group_session"} <= ca.code_set("kind")
    assert "minutes" in ca.kinds["helpline_call"].required
    assert {"home_visiting", "wic", "child_welfare"} <= mt.code_set("setting")
    for p in (il, ca, mt):
        assert all(c.region in p.code_set("region") for c in p.counties)


def test_fiscal_year_follows_the_start_month() -> None:
    import datetime as dt

    il = it.load_profile("illinois")
    assert il.fiscal_year(dt.date(2024, 6, 30)) == 2024
    assert il.fiscal_year(dt.date(2024, 7, 1)) == 2025
    assert il.fiscal_year_bounds(2025) == (dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    assert il.fiscal_quarter(dt.date(2024, 7, 1)) == 1
    assert il.fiscal_quarter(dt.date(2025, 6, 1)) == 4


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text, _ = _read("montana")
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, count))
    return path


def _line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[nth - 1]


def test_duplicate_code_names_file_line_and_code(tmp_path: Path) -> None:
    path = _broken(
        tmp_path,
        '{ code = "wic", label = "WIC" },',
        '{ code = "wic", label = "WIC" },\n  { code = "wic", label = "WIC again" },',
    )
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(path)
    msg = str(info.value)
    assert str(path) in msg and "codes.setting" in msg and "'wic'" in msg
    assert f"line {_line_of(path, 'WIC again')}" in msg


def test_unknown_field_type_is_named(tmp_path: Path) -> None:
    path = _broken(
        tmp_path, "[kinds.consultation]", '[fields.mood]\ntype = "feelings"\n\n[kinds.consultation]'
    )
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(path)
    msg = str(info.value)
    assert "fields.mood.type" in msg and "feelings" in msg
    assert f"line {_line_of(path, 'feelings')}" in msg


@pytest.mark.parametrize("month", ["13", "0", '"July"'])
def test_bad_fiscal_year_month_is_named(tmp_path: Path, month: str) -> None:
    path = _broken(tmp_path, "fiscal_year_start_month = 7", f"fiscal_year_start_month = {month}")
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(path)
    msg = str(info.value)
    assert "fiscal_year_start_month" in msg
    assert f"line {_line_of(path, 'fiscal_year_start_month')}" in msg


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('region = "region_4"', 'region = "region_9"', "counties"),
        ('by = ["setting", "fiscal_year"]', 'by = ["consultant", "fiscal_year"]', "tables"),
        ("dominance = 0.8", "dominance = 1.8", "dominance"),
        ('unit = "consultant"', 'unit = "child"', "unit"),
        (
            'required = ["setting", "consultation_type", "hours", "modality"]',
            'required = ["setting", "shoe_size"]',
            "kinds.consultation",
        ),
        ("hours = 80", "hours = -1", "bounds.hours"),
    ],
)
def test_other_faults_are_named(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(_broken(tmp_path, old, new))
    assert key in str(info.value)


def test_invalid_toml_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile\nname = 'x'")
    with pytest.raises(it.ProfileError, match="line 1"):
        it.load_profile(bad)
    with pytest.raises(it.ProfileError, match="unknown profile"):
        it.load_profile("atlantis")
    with pytest.raises(it.ProfileError, match="cannot read"):
        it.load_profile(tmp_path / "missing.toml")


def test_a_shipped_name_is_a_name_and_anything_else_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert profile_path("montana") is None and profile_path(Path("montana")) is None
    assert profile_path("lakeshore.toml") == Path("lakeshore.toml")
    assert profile_path("atlantis") == Path("atlantis")  # load_profile refuses it as a name
    # a file in the working directory does not shadow a shipped profile's name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "illinois").write_text("not a profile")
    assert profile_path("illinois") is None and it.load_profile("illinois").label == "Illinois"
