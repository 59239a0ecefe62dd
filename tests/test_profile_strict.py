"""Strict profiles: a key or code a profile's reader does not know is refused at its own
line, saying what was meant and what the valid values are."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

import iecmhc_tracker as it

IL_TEXT = (resources.files("iecmhc_tracker") / "profiles" / "illinois.toml").read_text("utf-8")
MT_TEXT = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "state.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, needle: str) -> int:
    """The 1-based line of the file holding ``needle`` (the test's own account of it)."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(it.ProfileError) as info:
        it.load_profile(str(_write(tmp_path, text)))
    return str(info.value)


def test_a_misspelt_key_is_refused_with_did_you_mean_at_its_line(tmp_path: Path) -> None:
    text = IL_TEXT.replace("[privacy.dp]\n", "[privacy.dp]\nbudget_epsilom = 3\n", 1)
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, 'budget_epsilom')}," in message
    assert "privacy.dp.budget_epsilom" in message
    # the nearest key is the retired one: the message says what replaced it
    assert "did you mean budget_epsilon" in message
    assert "analyst_epsilon_per_fiscal_year" in message


def test_a_misspelt_key_gets_the_nearest_valid_key(tmp_path: Path) -> None:
    text = IL_TEXT.replace("[privacy.suppression]\n", "[privacy.suppression]\nmin_consultant = 5\n")
    message = _refusal(tmp_path, text)
    assert "did you mean min_consultants?" in message
    assert f"line {_line(text, 'min_consultant =')}," in message


@pytest.mark.parametrize(
    ("table", "key"),
    [("[privacy.suppression]", "fiscal_year_start"), ("[codes]", "fiscal_year_start_month")],
)
def test_a_key_in_the_wrong_table_is_refused_naming_its_table(
    tmp_path: Path, table: str, key: str
) -> None:
    text = IL_TEXT.replace(f"{table}\n", f"{table}\n{key} = 9\n", 1)
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, f'{key} = 9')}," in message
    assert "fiscal_year_start_month belongs under [profile]" in message


def test_a_table_filtering_on_a_kind_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    text = MT_TEXT.replace(
        'name = "training_hours"\ntitle = "Hours of training"\nmeasures = ["training_hours", '
        '"activities"]\nby = ["fiscal_year"]\nwhere = { kind = ["training"] }',
        'name = "training_hours"\ntitle = "Hours of training"\nmeasures = ["training_hours", '
        '"activities"]\nby = ["fiscal_year"]\nwhere = { kind = ["trainings"] }',
    )
    assert "trainings" in text
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, 'trainings')}," in message  # the entry's line, not the list's
    kinds = [c["code"] for c in tomllib.loads(MT_TEXT)["codes"]["kind"]]
    assert "'trainings'" in message and all(k in message for k in kinds)


def test_a_table_grouping_by_a_field_without_codes_is_refused(tmp_path: Path) -> None:
    assert "tier" not in tomllib.loads(MT_TEXT)["codes"]  # Montana lists no tiers
    text = MT_TEXT.replace('by = ["setting", "fiscal_year"]', 'by = ["tier"]', 1)
    message = _refusal(tmp_path, text)
    line = _line(text, 'by = ["tier"]')
    assert f"line {line}," in message
    assert "no tier codes" in message


def test_a_county_with_an_unknown_region_is_refused_at_its_entry_listing_the_regions(
    tmp_path: Path,
) -> None:
    text = MT_TEXT.replace(
        '{ code = "hill", label = "Hill", region = "region_2" }',
        '{ code = "hill", label = "Hill", region = "north" }',
    )
    message = _refusal(tmp_path, text)
    line = _line(text, 'code = "hill"')
    assert f"line {line}," in message
    regions = [r["code"] for r in tomllib.loads(MT_TEXT)["regions"]]
    assert all(r in message for r in regions)


def test_a_code_that_is_not_a_slug_says_which_characters_are_allowed(tmp_path: Path) -> None:
    text = MT_TEXT.replace('{ code = "hill", label', '{ code = "Hill County", label')
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, 'Hill County')}," in message
    assert "slug" not in message.split(", key ", 1)[1]
    assert "lowercase letters a–z, digits 0–9 and underscores" in message


def test_an_unknown_field_in_a_kind_rule_lists_the_fields(tmp_path: Path) -> None:
    text = MT_TEXT.replace('required = ["setting", "hours"]', 'required = ["setting", "houres"]', 1)
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, 'houres')}," in message
    assert "'houres'" in message and "hours" in message and "consultation_type" in message


def test_the_digest_is_of_the_content_not_its_comments(tmp_path: Path) -> None:
    base = it.load_profile("montana")
    commented = it.load_profile(str(_write(tmp_path, "# a comment\n" + MT_TEXT)))
    assert commented.digest == base.digest and re.fullmatch("[0-9a-f]{64}", base.digest)
    changed = MT_TEXT.replace("min_count = 11", "min_count = 12")
    (tmp_path / "b.toml").write_text(changed, encoding="utf-8")
    assert it.load_profile(str(tmp_path / "b.toml")).digest != base.digest


def test_a_duplicate_code_is_found_in_its_own_list(tmp_path: Path) -> None:
    # child_welfare is a setting and a resource type: the duplicate is the resource type's
    text = MT_TEXT.replace(
        '  { code = "other", label = "Other community resource" },\n',
        '  { code = "other", label = "Other community resource" },\n'
        '  { code = "child_welfare", label = "Child welfare, again" },\n',
    )
    message = _refusal(tmp_path, text)
    assert f"line {_line(text, 'Child welfare, again')}," in message
    assert "duplicate code 'child_welfare'" in message
