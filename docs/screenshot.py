"""Write docs/img/REPORT-390.png and REPORT-1280.png: each report of the demo (the state
dashboard, the funding summary, a consultant's portfolio, a program's reflection summary) as
headless Chromium shows it on a phone (390 px) and on a laptop (1280 px).

Run through ``make screenshot`` (it runs the demo first). Installs nothing by itself: it needs
Debian's ``chromium`` on the PATH. Pages are drawn through the DevTools protocol, as the report
tests draw them (``tests/browser.py``): the command line's ``--window-size`` stops at 500 px.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = ROOT / "demo-output" / "demo.db"
OUT = ROOT / "docs" / "img"
WIDTHS = (390, 1280)
#: long pages (a program's every contact) are cut here: the top is what a reader sees first
MAX_HEIGHT = 4200

sys.path.insert(0, str(ROOT / "tests"))

import iecmhc_tracker as it  # noqa: E402
from browser import chromium, screenshot  # noqa: E402


def _busiest() -> tuple[str, str]:
    """The demo consultant with the most activities (ids c-0000, c-0001 …) and her busiest
    program."""
    work: dict[str, list[it.Activity]] = {}
    with it.Tracker.open(f"sqlite:///{DB}", "illinois") as tracker:
        for i in range(10_000):
            acts = tracker.as_consultant(f"c-{i:04d}").activities()
            if not acts:
                break
            work[f"c-{i:04d}"] = acts
    consultant = max(work, key=lambda c: len(work[c]))
    return consultant, Counter(a.program for a in work[consultant]).most_common(1)[0][0]


def _pages(folder: Path) -> dict[str, str]:
    """Each report, written by the command line as a user would write it."""
    consultant, program = _busiest()
    year = str(it.load_profile("illinois").last_complete_fiscal_year(dt.date.today()))
    commands = {
        "dashboard": ["dashboard"],
        "funding": ["funding"],
        "portfolio": ["portfolio", "--consultant", consultant],
        "program": ["program", "--program", program, "--fiscal-year", year],
    }
    pages = {}
    for name, args in commands.items():
        out = folder / f"{name}.html"
        subprocess.run(
            [sys.executable, "-m", "iecmhc_tracker.cli", "report", *args,
             "--db", f"sqlite:///{DB}", "--out", str(out)],
            check=True,
            capture_output=True,
            timeout=600,
        )  # fmt: skip
        pages[name] = out.read_text(encoding="utf-8")
    return pages


def main() -> int:
    if chromium() is None:
        print("error: chromium not found; install Debian's chromium package", file=sys.stderr)
        return 2
    if not DB.exists():
        print(f"error: {DB} not found; run `make demo` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        pages = _pages(Path(folder))
    for name, html in pages.items():
        for width in WIDTHS:
            out = screenshot(html, OUT / f"{name}-{width}.png", width, MAX_HEIGHT)
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
