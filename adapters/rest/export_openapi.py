"""Write the service's OpenAPI spec: ``python -m adapters.rest.export_openapi [PATH]``.

The spec does not depend on the data, so it is generated from an empty in-memory tracker;
``tests/test_rest.py`` fails when the committed ``openapi.json`` is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import iecmhc_tracker as it

from .app import create_app

DEFAULT = Path(__file__).with_name("openapi.json")


def spec() -> dict[str, Any]:
    """The OpenAPI document of ``create_app`` (independent of data and tokens)."""
    return create_app(it.Tracker.open("memory://"), {}).openapi()


def render() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
