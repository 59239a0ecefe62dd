"""Serve the tracker over HTTP: ``python -m adapters.rest --tokens tokens.toml``.

Options: ``--url`` (store URL, default ``sqlite:///tracker.db``), ``--profile`` (a shipped name
or a TOML path), ``--host``, ``--port``.
"""

from __future__ import annotations

import argparse

import iecmhc_tracker as it

from .app import create_app
from .auth import load_tokens


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m adapters.rest", description=__doc__)
    ap.add_argument("--tokens", required=True, help="token file (TOML or JSON)")
    ap.add_argument("--url", default="sqlite:///tracker.db")
    ap.add_argument("--profile", default="illinois")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args(argv)
    import uvicorn

    tracker = it.Tracker.open(args.url, profile=args.profile)
    uvicorn.run(create_app(tracker, load_tokens(args.tokens)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
