"""The documentation: the site builds with ``mkdocs build --strict``, no page says TODO, the
walk-through's commands work when run verbatim, and the profile page names every key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def _env() -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("IECMHC_DB", None)
    env.pop("IECMHC_PROFILE", None)
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


@pytest.mark.slow
def test_site_builds_strictly(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    cli = (tmp_path / "site" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "iecmhc import" in cli and "--batch-size" in cli  # generated from the CLI itself
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "Tracker.open" in api and "as_researcher" in api  # rendered from docstrings


def test_no_page_says_todo() -> None:
    pages = [*DOCS.rglob("*.md"), ROOT / "README.md"]
    offenders = [p.name for p in pages if re.search(r"\bTODO\b", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_nav_page_exists() -> None:
    nav = re.findall(r"^\s+- [^:]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert "walkthrough.md" in nav
    assert [p for p in nav if not (DOCS / p).exists()] == []


@pytest.mark.slow
def test_walkthrough_commands_run_verbatim(tmp_path: Path) -> None:
    blocks = BLOCK.findall((DOCS / "walkthrough.md").read_text(encoding="utf-8"))
    assert [lang for lang, _ in blocks].count("python") >= 3
    outputs = []
    for n, (lang, code) in enumerate(blocks, 1):
        # installing happens in the checkout; everything after it in a fresh directory
        cwd = ROOT if code.startswith("python -m pip install") else tmp_path
        if lang == "sh":
            cmd = ["bash", "-euo", "pipefail", "-c", code]
        else:
            script = tmp_path / f"block_{n}.py"
            script.write_text(code, encoding="utf-8")
            cmd = [str(BIN / "python"), str(script)]
        out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"block {n} failed:\n{code}\n{out.stdout}\n{out.stderr}"
        outputs.append(out.stdout)
    text = "\n".join(outputs)
    assert "stored 7b0c4b38-9f61-4c9d-9d0e-6a1f6c2f8f11" in text
    assert "county unknown_code" in text and "hours range" in text
    assert "2 records read: 2 imported" in text
    assert "bad.csv was rejected (exit code 1)" in text
    assert "3 activities, 6.5 hours" in text  # 1.5 recorded + 2 + 3 imported, all FY2025
    assert (tmp_path / "portfolio.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "hours_by_region" in text and "hours_flag" in text
    dashboard = (tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert dashboard.lstrip().lower().startswith("<!doctype html>") and "<svg" in dashboard
    assert "ci_low" in text and "ci_high" in text
    assert "budget of analyst-2" in text
    assert "Forbidden:" in text


def _keys(data: Any, path: str = "") -> set[str]:
    """Every key a profile file sets (code-list entries, kind and field names aside)."""
    keys: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            dynamic = path in ("kinds.", "fields.", "privacy.dp.bounds.", "privacy.dp.norm_bounds.")
            dynamic = dynamic or path.endswith("where.")  # dimension and field names
            if not dynamic and path != "limits.":
                keys.add(k)
            keys |= _keys(v, f"{path}{'*' if dynamic else k}.")
    elif isinstance(data, list):
        for item in data:
            if (
                isinstance(item, dict)
                and path not in ("regions.", "counties.")
                and not path.startswith(("codes.", "fields.*.codes"))
            ):
                keys |= _keys(item, path)
    return keys


def test_profiles_page_names_every_key() -> None:
    page = (DOCS / "profiles.md").read_text(encoding="utf-8")
    files = [
        *(ROOT / "src/iecmhc_tracker/profiles").glob("*.toml"),
        ROOT / "examples/new_state_profile/lakeshore.toml",
    ]
    keys: set[str] = set()
    for f in files:
        keys |= _keys(tomllib.loads(f.read_text(encoding="utf-8")))
    assert {
        "fiscal_year_start_month",
        "min_consultants",
        "lifetime_epsilon_per_fiscal_year",
    } <= keys
    # a key is named when a code span holds it as a word: `min_count`, `[privacy.dp.bounds]`
    prose = re.sub(r"^```.*?^```", "", page, flags=re.S | re.M)
    spans = " ".join(re.findall(r"`([^`]+)`", prose))
    assert sorted(k for k in keys if not re.search(rf"(?<![\w-]){k}(?![\w-])", spans)) == []


def test_api_reference_covers_every_public_name() -> None:
    import iecmhc_tracker as it

    page = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: iecmhc_tracker\.(\w+)$", page, re.M))
    assert sorted(set(it.__all__) - {"__version__"} - documented) == []
