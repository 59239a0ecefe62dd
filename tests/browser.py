"""Headless Chromium for report tests: render a page as a person's browser would.

The set-up installs Debian's chromium when it is missing and we are root with apt-get; tests
skip with the reason only where it cannot be installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--blink-settings=scriptEnabled=true",
]
_why_not: str | None = None


def chromium() -> str | None:
    """Path of a chromium binary, installing Debian's package once if possible."""
    global _why_not
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or _why_not:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        _why_not = "chromium is not installed and cannot be installed here (needs root apt-get)"
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            _why_not = f"installing chromium failed: {done.stderr.strip()[-300:]}"
            return None
    return shutil.which("chromium")


def why_not() -> str:
    return _why_not or "chromium is not available"


def _run(html: str, *extra: str) -> subprocess.CompletedProcess[str]:
    exe = chromium()
    assert exe is not None
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        return subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={tmp}/profile", *extra, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp,
        )


def rendered_dom(html: str) -> str:
    """The page's DOM after Chromium has loaded and run it."""
    done = _run(html, "--dump-dom")
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


def screenshot(html: str, out: Path, width: int = 1100, height: int = 1800) -> Path:
    out = out.resolve()
    done = _run(html, f"--screenshot={out}", f"--window-size={width},{height}")
    assert done.returncode == 0 and out.exists(), done.stderr[-500:]
    return out
