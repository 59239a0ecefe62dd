"""Write docs/img/dashboard.png: the demo's state dashboard rendered by headless Chromium.

Run through ``make screenshot`` (it runs the demo first). Installs nothing by itself: it needs
Debian's ``chromium`` on the PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "demo-output" / "dashboard.html"
OUT = ROOT / "docs" / "img" / "dashboard.png"


def main() -> int:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        print("error: chromium not found; install Debian's chromium package", file=sys.stderr)
        return 2
    if not PAGE.exists():
        print(f"error: {PAGE} not found; run `make demo` first", file=sys.stderr)
        return 2
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--window-size=1100,1500", "--hide-scrollbars", f"--screenshot={OUT}",
                PAGE.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
