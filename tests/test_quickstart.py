"""The README's quickstart runs as written: its code, extracted from README.md, in a fresh
directory, with nothing defined beforehand."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quickstart() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    assert blocks, "the README's Quickstart section has no python block"
    return "\n".join(blocks)


def test_the_readme_quickstart_runs_as_written(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(_quickstart(), encoding="utf-8")
    # the package as installed: here, this checkout's own source
    env = {k: v for k, v in os.environ.items() if not k.startswith("IECMHC_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("3000 0 ()")  # inserted, duplicates, nothing rejected
    assert lines[1] == "2.0"  # the amended hours: 1.5 corrected to 2
    assert "ci_low" in out.stdout and "hours_flag" in out.stdout
    assert "county unknown_code" in out.stdout and "hours range" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quickstart.py"]  # memory:// only
