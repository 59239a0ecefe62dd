"""One configuration for every command (flags, environment, iecmhc.toml), a store that
remembers its profile, read-only commands that never create, and ``iecmhc profile …``."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app
from iecmhc_tracker.cli.config import resolve

runner = CliRunner()
ENV = ("IECMHC_DB", "IECMHC_TABLE_PREFIX", "IECMHC_PROFILE")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts in an empty folder, without the settings' environment variables."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _montana_records(path: Path) -> Path:
    records = [
        {
            "consultant": f"c-{i}",
            "date": "2025-03-04",
            "county": "missoula",
            "kind": "consultation",
            "setting": "child_care_center",
            "consultation_type": "classroom",
            "modality": "onsite",
            "hours": "2",
        }
        for i in range(4)
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


# -- commands that only read ----------------------------------------------------------------
def test_a_report_on_a_database_without_tracker_tables_creates_nothing(sql_url: str) -> None:
    before = _tables(sql_url) if not sql_url.startswith("sqlite") else set()
    done = runner.invoke(app, ["report", "dashboard", "--db", sql_url, "--format", "json"])
    assert done.exit_code == 1, done.output
    assert "no tracker" in done.output and "iecmhc init" in done.output
    if sql_url.startswith("sqlite"):
        assert not Path(sql_url.removeprefix("sqlite:///")).exists()
    else:
        assert _tables(sql_url) == before  # not one table made


@pytest.mark.parametrize(
    "args",
    [
        ["report", "portfolio", "--consultant", "c-1"],
        ["report", "program", "--program", "p-1"],
        ["report", "funding"],
        ["budget", "--analyst", "a"],
        ["query", "--analyst", "a", "-m", "hours", "--by", "region", "--epsilon", "0.5"],
        ["profile", "migrate", "--profile", "montana"],
    ],
)
def test_commands_that_only_read_never_create_a_store(tmp_path: Path, args: list[str]) -> None:
    db = f"sqlite:///{tmp_path / 'nothing.db'}"
    done = runner.invoke(app, [*args, "--db", db])
    assert done.exit_code == 1, done.output
    assert "iecmhc init" in done.output
    assert not (tmp_path / "nothing.db").exists()


def test_the_table_prefix_is_taken_by_every_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'app.db'}"
    data = _montana_records(tmp_path / "mt.json")
    pre = ["--db", db, "--table-prefix", "iecmhc_"]
    assert runner.invoke(app, ["init", *pre, "--profile", "montana"]).exit_code == 0
    assert runner.invoke(app, ["import", str(data), *pre]).exit_code == 0
    done = runner.invoke(
        app, ["report", "portfolio", "--consultant", "c-1", *pre, "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    assert all(t.startswith("iecmhc_") for t in _tables(db))
    # without the prefix the same database holds no tracker tables, and is left so
    done = runner.invoke(app, ["report", "dashboard", "--db", db])
    assert done.exit_code == 1 and "no tracker tables" in done.output
    assert all(t.startswith("iecmhc_") for t in _tables(db))


# -- the store's profile --------------------------------------------------------------------
def test_a_store_is_reported_under_its_own_profile(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'mt.db'}"
    data = _montana_records(tmp_path / "mt.json")
    done = runner.invoke(app, ["import", str(data), "--db", db, "--profile", "montana"])
    assert done.exit_code == 0, done.output
    # no --profile: the Montana store is a Montana report, with Montana's labels
    done = runner.invoke(app, ["report", "dashboard", "--db", db, "--fiscal-year", "2025"])
    assert done.exit_code == 0, done.output
    assert "Montana" in done.output and "Illinois" not in done.output
    # another profile is refused, naming the store's and how to proceed
    done = runner.invoke(app, ["report", "dashboard", "--db", db, "--profile", "california"])
    assert done.exit_code == 1
    assert "'montana'" in done.output and "iecmhc profile migrate" in done.output
    assert "--profile california`" in done.output  # a shipped profile named as one types it


def test_a_profile_is_changed_only_on_purpose(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'mt.db'}"
    data = _montana_records(tmp_path / "mt.json")
    assert (
        runner.invoke(app, ["import", str(data), "--db", db, "--profile", "montana"]).exit_code == 0
    )
    edited = tmp_path / "montana-2.toml"
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")
    edited.write_text(text.replace("min_count = 11", "min_count = 5"), encoding="utf-8")
    # the same name with other content is refused too
    done = runner.invoke(app, ["budget", "--analyst", "a", "--db", db, "--profile", str(edited)])
    assert done.exit_code == 1 and "differs" in done.output
    done = runner.invoke(app, ["profile", "migrate", "--db", db, "--profile", str(edited)])
    assert done.exit_code == 0, done.output
    assert "was 'montana'" in done.output
    done = runner.invoke(app, ["budget", "--analyst", "a", "--db", db, "--profile", str(edited)])
    assert done.exit_code == 0, done.output
    # and the store now reads under the edited profile without the file being named
    with it.Tracker.open(db, create=False) as tracker:
        assert tracker.profile.suppression.min_count == 5


def test_the_library_takes_the_stores_profile_and_refuses_another(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lib.db'}"
    it.Tracker.open(db, "montana").close()
    with it.Tracker.open(db) as tracker:
        assert tracker.profile.name == "montana"
    with pytest.raises(it.ProfileMismatch, match="montana"):
        it.Tracker.open(db, "california")
    with pytest.raises(it.NotInitialised):
        it.Tracker.open(f"sqlite:///{tmp_path / 'none.db'}", create=False)
    assert not (tmp_path / "none.db").exists()


# -- where the settings come from -----------------------------------------------------------
def test_settings_come_from_flag_then_environment_then_file_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve(None, None, None, folder=tmp_path).db == "sqlite:///tracker.db"
    (tmp_path / "iecmhc.toml").write_text(
        'db = "sqlite:///from-file.db"\ntable_prefix = "f_"\nprofile = "montana"\n'
    )
    from_file = resolve(None, None, None, folder=tmp_path)
    assert (from_file.db, from_file.table_prefix, from_file.profile) == (
        "sqlite:///from-file.db",
        "f_",
        "montana",
    )
    # a flag or an environment variable reaches resolve as the option's value: it wins
    assert resolve("sqlite:///flag.db", None, None, folder=tmp_path).db == "sqlite:///flag.db"
    # through the command line: environment over file, flag over environment
    monkeypatch.setenv("IECMHC_DB", f"sqlite:///{tmp_path / 'env.db'}")
    done = runner.invoke(app, ["init"])
    assert done.exit_code == 0 and (tmp_path / "env.db").exists()
    done = runner.invoke(app, ["init", "--db", f"sqlite:///{tmp_path / 'flag.db'}"])
    assert done.exit_code == 0 and (tmp_path / "flag.db").exists()
    monkeypatch.delenv("IECMHC_DB")
    done = runner.invoke(app, ["init"])
    assert done.exit_code == 0 and (tmp_path / "from-file.db").exists()
    assert "'montana'" in done.output  # the file's profile, recorded by init
    assert _tables(f"sqlite:///{tmp_path / 'from-file.db'}") >= {"f_activities"}


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('dbb = "sqlite:///x.db"\n', ["line 1", "'dbb'", "did you mean db?"]),
        ("profile = 3\n", ["line 1", "'profile'", "string"]),
        ('db = "sqlite:///x.db"\nprofile = ""\n', ["line 2", "'profile'"]),
        ("db = \n", ["not valid TOML"]),
    ],
)
def test_a_bad_setting_in_the_file_names_the_file_and_key(
    tmp_path: Path, text: str, wanted: list[str]
) -> None:
    (tmp_path / "iecmhc.toml").write_text(text)
    done = runner.invoke(app, ["report", "dashboard"])
    assert done.exit_code == 2
    assert "iecmhc.toml" in done.output and all(w in done.output for w in wanted), done.output
    assert "Traceback" not in done.output


# -- iecmhc profile check / codes -----------------------------------------------------------
def test_profile_check_prints_every_misplaced_key(tmp_path: Path) -> None:
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")
    text = text.replace("[privacy.dp]\n", "[privacy.dp]\nbudget_epsilom = 3\n")
    text = text.replace("[privacy.suppression]\n", "[privacy.suppression]\nmin_cont = 3\n")
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    done = runner.invoke(app, ["profile", "check", str(tmp_path / "bad.toml")])
    assert done.exit_code == 1
    assert "budget_epsilom" in done.output and "min_cont" in done.output
    # table names print as written, not swallowed as terminal markup
    assert "is not a key of [privacy.dp]" in done.output


def test_profile_codes_lists_one_field_or_all() -> None:
    done = runner.invoke(app, ["profile", "codes", "county", "--profile", "montana"])
    assert done.exit_code == 0
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")
    counties = tomllib.loads(text)["counties"]
    lines = [ln.split() for ln in done.output.splitlines()[1:] if ln.strip()]
    assert len(lines) == len(counties)
    assert ["lewis_and_clark", "Lewis", "and", "Clark", "(region", "region_4)"] in lines
    done = runner.invoke(app, ["profile", "codes", "--profile", "montana"])
    assert done.exit_code == 0
    for heading in ("county", "region", "kind", "setting", "resource_type"):
        assert f"{heading} (" in done.output
    done = runner.invoke(app, ["profile", "codes", "countys", "--profile", "montana"])
    assert done.exit_code == 2 and "did you mean county?" in done.output


def test_profile_codes_takes_the_stores_profile(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ca.db'}"
    it.Tracker.open(db, "california").close()
    done = runner.invoke(app, ["profile", "codes", "tier", "--db", db])
    assert done.exit_code == 0 and "universal" in done.output


def test_a_profile_that_lacks_stored_codes_is_recorded_only_with_force(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'mt.db'}"
    data = _montana_records(tmp_path / "mt.json")  # every record is in Missoula county
    assert (
        runner.invoke(app, ["import", str(data), "--db", db, "--profile", "montana"]).exit_code == 0
    )
    text = (resources.files("iecmhc_tracker") / "profiles" / "montana.toml").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if 'code = "missoula"' not in ln]
    smaller = tmp_path / "montana-smaller.toml"
    smaller.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = runner.invoke(app, ["profile", "migrate", "--db", db, "--profile", str(smaller)])
    assert done.exit_code == 1 and "county: missoula" in done.output and "--force" in done.output
    with it.Tracker.open(db) as tracker:
        assert tracker.profile.code_set("county") >= {"missoula"}  # unchanged
    done = runner.invoke(
        app, ["profile", "migrate", "--db", db, "--profile", str(smaller), "--force"]
    )
    assert done.exit_code == 0, done.output
    with it.Tracker.open(db) as tracker:
        assert "missoula" not in tracker.profile.code_set("county")
