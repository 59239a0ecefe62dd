"""Headless Chromium for report tests: render a page as a person's browser would.

The set-up installs Debian's chromium when it is missing and we are root with apt-get, and npm's
axe-core into the user's cache (``~/.cache/iecmhc-tracker``) when it is missing; tests skip with
the reason only where either cannot be installed. ``Page`` drives one tab over the DevTools
protocol, so pages are seen at phone widths too; ``docs/screenshot.py`` draws with it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

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


def screenshot(html: str, out: Path, width: int = 1280, max_height: int | None = None) -> Path:
    """A PNG of the page at ``width`` CSS px (phone widths too), its full height or the top
    ``max_height`` px of it."""
    with Page(html, width) as page:
        return page.screenshot(out.resolve(), max_height)


# -- pages at a given width, through the DevTools protocol -------------------------------------
# ``--window-size`` cannot go below 500 px in headless Chromium, so phone widths are emulated
# (Emulation.setDeviceMetricsOverride) over ``--remote-debugging-pipe``: commands go in on
# fd 3 and answers come out on fd 4, each a JSON message ended by a NUL byte.


class Page:
    """One Chromium tab showing an HTML page at a given viewport width."""

    def __init__(self, html: str, width: int, height: int = 900, mobile: bool | None = None):
        exe = chromium()
        assert exe is not None
        self._tmp = tempfile.TemporaryDirectory()
        path = Path(self._tmp.name) / "page.html"
        path.write_text(html, encoding="utf-8")
        to_child, self._send = os.pipe()
        self._recv, from_child = os.pipe()
        # above any fd the child maps to 3 and 4, so the dup2 below never clobbers a source
        src_in, src_out = (
            fcntl.fcntl(to_child, fcntl.F_DUPFD, 10),
            fcntl.fcntl(from_child, fcntl.F_DUPFD, 10),
        )

        def wire() -> None:
            os.dup2(src_in, 3)
            os.dup2(src_out, 4)

        self._proc = subprocess.Popen(
            [exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._tmp.name}/p",
             "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4, src_in, src_out),
        )  # fmt: skip
        for fd in (to_child, from_child, src_in, src_out):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self._events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.width = width
        self.mobile = width < 600 if mobile is None else mobile
        self.resize(height)
        self._call("Page.enable", session=True)
        self._call("Page.navigate", session=True, url=path.as_uri())
        self._wait_event("Page.loadEventFired")

    def resize(self, height: int) -> None:
        self._call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=self.mobile,
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        done = self._call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        assert "exceptionDetails" not in done, done["exceptionDetails"]
        return done["result"].get("value")

    def screenshot(self, out: Path, max_height: int | None = None) -> Path:
        """A PNG of the whole page (its full height, or at most ``max_height``) at this width."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.resize(min(height, max_height or height))
        shot = self._call("Page.captureScreenshot", session=True, format="png")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def close(self) -> None:
        with contextlib.suppress(OSError, AssertionError):
            self._call("Browser.close")
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._send)
        os.close(self._recv)
        self._tmp.cleanup()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the protocol --------------------------------------------------------------------------
    def _call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._events.append(reply)

    def _wait_event(self, method: str) -> dict[str, Any]:
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(i)
            self._events.append(self._read())

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._recv], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, "chromium did not answer within 120 s"
            chunk = os.read(self._recv, 1 << 20)
            assert chunk, "chromium closed the DevTools pipe"
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(raw)
        return parsed


# -- axe-core ----------------------------------------------------------------------------------
AXE_VERSION = "4.14.1"
_axe_why_not: str | None = None


def axe_source() -> str | None:
    """axe.min.js from npm's ``axe-core``, installed once into the user's cache when missing."""
    global _axe_why_not
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "iecmhc-tracker"
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists() or _axe_why_not:
        return script.read_text(encoding="utf-8") if script.exists() else None
    npm = shutil.which("npm")
    if npm is None:
        _axe_why_not = "npm is not installed, so axe-core cannot be installed"
        return None
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(cache),
            f"axe-core@{AXE_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not script.exists():
        _axe_why_not = f"installing axe-core failed: {done.stderr.strip()[-300:]}"
        return None
    return script.read_text(encoding="utf-8")


def axe_why_not() -> str:
    return _axe_why_not or "axe-core is not available"


def axe_violations(page: Page, source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page (WCAG 2.1 A and AA rules, and best practices):
    rule id, impact and how many elements fail it."""
    page.evaluate(source + ";true")
    found: list[dict[str, Any]] = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
        " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return found
