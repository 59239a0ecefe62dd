"""The package's shape: no import cycle, no oversized module, no private import from outside.

Every import counts: module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "iecmhc_tracker"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, resolved to the most specific module."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                mod = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            # "from pkg import sub" imports the submodule; "from pkg import name", the package
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        for t in targets:
            # the longest prefix that is one of our modules
            parts = t.split(".")
            for i in range(len(parts), 0, -1):
                cand = ".".join(parts[:i])
                if cand in known:
                    if cand != name:
                        found.add(cand)
                    break
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(m, p, known) for m, p in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules() -> None:
    graph = _graph()
    assert graph["iecmhc_tracker._tracker"], "the import graph was not read"
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_role_views_depend_on_the_scope_not_the_tracker() -> None:
    graph = _graph()
    for view in ("iecmhc_tracker._views", "iecmhc_tracker._researcher"):
        assert "iecmhc_tracker._tracker" not in graph[view]
        assert "iecmhc_tracker._scope" in graph[view]


def test_the_store_contract_imports_only_the_errors_and_the_row() -> None:
    graph = _graph()
    assert graph["iecmhc_tracker.stores.contract"] <= {
        "iecmhc_tracker._errors",
        "iecmhc_tracker._columns",
    }
    # nothing below the stores reaches above them
    below = [m for m in graph if m.startswith("iecmhc_tracker.stores") and "testing" not in m]
    allowed = {"iecmhc_tracker._errors", "iecmhc_tracker._columns"}
    for m in below:
        above = {d for d in graph[m] if not d.startswith("iecmhc_tracker.stores")}
        assert above <= allowed, (m, above)


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


_PRIVATE = re.compile(r"\biecmhc_tracker(?:\.\w+)*\._\w+|from iecmhc_tracker import _\w+")


def test_nothing_outside_the_package_imports_a_private_module() -> None:
    paths = [ROOT / "README.md"]
    for folder in ("docs", "adapters", "examples"):
        paths += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.suffix in (".py", ".md", ".ipynb", ".toml") and ".ipynb_checkpoints" not in p.parts
        ]
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in paths
        if (hits := sorted(set(_PRIVATE.findall(p.read_text(encoding="utf-8")))))
    }
    # the version attribute is public, not a private module
    offenders = {k: [h for h in v if not h.endswith("__version__")] for k, v in offenders.items()}
    assert {k: v for k, v in offenders.items() if v} == {}
