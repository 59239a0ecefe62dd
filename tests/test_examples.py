"""Every example runs: the quickstart, the Lakeshore profile script and the researcher
notebook (executed with nbclient, outputs checked; the committed copy is executed too)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "researcher.ipynb"


def _run(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_quickstart_runs_and_is_idempotent(tmp_path: Path) -> None:
    first = _run("examples/quickstart.py", str(tmp_path))
    assert "refused:" in first and "county: unknown county code 'atlantis'" in first
    assert "imported: 3000 new, 0 already stored, 0 problems" in first
    assert "setting_label" in first and "hours_flag" in first and "Total" in first
    assert "ci_low" in first and "ci_high" in first
    assert "0.5 spent of 2" in first  # ε on the fiscal years of data it read
    html = (tmp_path / "portfolio.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "c-0003" in html
    second = _run("examples/quickstart.py", str(tmp_path))
    assert "imported: 0 new, 3000 already stored, 0 problems" in second
    # the same question again is served from the release cache: the budget does not move
    assert "0.5 spent of 2" in second and "1 spent" not in second


def test_new_state_profile_example_runs(tmp_path: Path) -> None:
    out = _run("examples/new_state_profile/run.py", str(tmp_path))
    assert out.startswith("Lakeshore: 9 counties in 3 regions, fiscal year from month 10")
    assert "refused: partner_type [required]" in out
    assert "imported 1500 activities" in out
    assert "Tribal child care" in out and "hours_flag" in out  # its own suppressed table
    assert {"north_shore", "harbor", "pinelands"} <= set(out.split())
    with open(tmp_path / "lakeshore_redcap_dictionary.csv", encoding="utf-8") as f:
        names = [r["Variable / Field Name"] for r in csv.DictReader(f)]
    assert "x_partner_type" in names and "x_winter_outreach" in names


def test_lakeshore_profile_passes_the_cli_check() -> None:
    out = subprocess.run(
        [
            Path(sys.executable).with_name("iecmhc"),
            "profile",
            "check",
            "examples/new_state_profile/lakeshore.toml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Lakeshore" in out.stdout


def _outputs(nb: Any, tag: str) -> tuple[str, dict[str, Any]]:
    """The text and the rich data a tagged cell printed or returned."""
    [cell] = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    text, data = "", {}
    for o in cell.outputs:
        assert o.output_type != "error", f"cell {tag} raised: {o.get('evalue')}"
        text += o.get("text", "") + o.get("data", {}).get("text/plain", "")
        data.update(o.get("data", {}))
    return text, data


def _check_researcher_outputs(nb: Any) -> None:
    # the error and the cost before spending, then the release it described
    text, _ = _outputs(nb, "preview")
    assert "nothing read or spent" in text and "hours: ± " in text
    assert "FY2025: charge 0.5 of 2 left (1.5 after)" in text
    assert "epsilon for ± 1,000 hours per cell: " in text
    assert "spent on FY2025 so far: 0.0" in text
    text, data = _outputs(nb, "release")
    assert {"value", "ci_low", "ci_high"} <= set(text.split())
    assert "text/html" in data
    text, _ = _outputs(nb, "metadata")
    assert "'mechanism': 'laplace'" in text and "'level': 0.95" in text
    assert "half-width as previewed: True" in text
    assert "'epsilon': 0.5," in text  # shown rounded
    # the state's published table beside the release, and whether each interval holds it
    text, _ = _outputs(nb, "published")
    assert {"published", "interval", "holds"} <= set(text.split())
    assert "Individual child and family" in text
    text, _ = _outputs(nb, "auto")
    assert "clipped_share: {'hours': " in text
    assert "the profile's bounds were kept" in text
    _, data = _outputs(nb, "plot")
    assert "image/png" in data
    text, _ = _outputs(nb, "cached")
    assert "cached: True | same values: True" in text
    text, _ = _outputs(nb, "forbidden")
    assert text.startswith("Forbidden:")
    text, _ = _outputs(nb, "budget-exceeded")
    assert "BudgetExceeded: analyst-1 has 0.5 epsilon left on FY2025 data" in text
    text, _ = _outputs(nb, "history")
    assert "(cached)" in text


@pytest.mark.slow
def test_researcher_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    _check_researcher_outputs(nb)


def test_committed_notebook_is_executed() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "run and save examples/researcher.ipynb"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    _check_researcher_outputs(nb)
