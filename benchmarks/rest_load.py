"""REST under load: the service in a uvicorn subprocess on PostgreSQL, many concurrent clients.

    PYTHONPATH=src python -m benchmarks.rest_load [--url postgresql+psycopg://…] [--clients 16]
        [--records 2000] [--batch 200]

Each client is a consultant with its own token. Most records go through
``POST /activities/import`` in batches, some one by one through ``POST /activities``; a few
are replays (duplicates of records already sent) and a few are invalid. Prints p50 / p99
latency per endpoint and the throughput in records per second. ``tests/adapters/
test_rest_load.py`` runs the same load and checks the counts (no figure is asserted there).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SINGLE_EVERY = 20  # one record in 20 goes through POST /activities
INVALID_EVERY = 50  # one in 50 is invalid (hours 30)
DUPLICATE_EVERY = 40  # one in 40 is sent again (same id, same content)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def service(url: str, clients: int, workdir: Path) -> Iterator[tuple[str, list[str]]]:
    """The service on a free port of 127.0.0.1; yields its base URL and one token per client."""
    tokens = {f"tok-load-{n:03d}-{uuid.uuid4().hex}": f"c-load-{n}" for n in range(clients)}
    token_file = workdir / "tokens.json"
    token_file.write_text(
        json.dumps(
            {"tokens": [{"token": t, "role": "consultant", "id": c} for t, c in tokens.items()]}
        )
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.rest", "--tokens", str(token_file), "--url", url,
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "server.log").open("w"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError((workdir / "server.log").read_text()[-2000:])
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base, list(tokens)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def records(n: int) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        rec: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "date": f"2025-{1 + k % 12:02d}-{1 + k % 28:02d}",
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "classroom",
            "hours": str(0.25 * (1 + k % 16)),
            "program": f"p-{k % 7}",
        }
        if k % INVALID_EVERY == 10:  # some of them go through POST /activities
            rec["hours"] = "30"
        out.append(rec)
    return out


def run_client(base: str, token: str, n: int, batch: int) -> dict[str, Any]:
    """One consultant's load; what it sent and what the service answered."""
    recs = records(n)
    headers = {"Authorization": f"Bearer {token}"}
    stats: dict[str, Any] = {"single": [], "batch": [], "status": [], "rejected_rows": 0}
    stats["sent_valid_ids"] = {r["id"] for r in recs if r["hours"] != "30"}
    stats["invalid"] = sum(1 for r in recs if r["hours"] == "30")
    singles = [r for k, r in enumerate(recs) if k % SINGLE_EVERY == 0]
    bulk = [r for k, r in enumerate(recs) if k % SINGLE_EVERY != 0]
    bulk += [r for k, r in enumerate(bulk) if k % DUPLICATE_EVERY == 0 and r["hours"] != "30"]
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for r in singles + singles[:: DUPLICATE_EVERY // SINGLE_EVERY or 1][:3]:
            t = time.perf_counter()
            resp = client.post("/activities", json=r)
            stats["single"].append(time.perf_counter() - t)
            stats["status"].append(resp.status_code)
            if resp.status_code == 422:
                stats["rejected_rows"] += 1
        # a batch with an invalid row is refused whole: the client sends its valid rows again
        for start in range(0, len(bulk), batch):
            chunk = bulk[start : start + batch]
            t = time.perf_counter()
            resp = client.post("/activities/import", json={"activities": chunk})
            stats["batch"].append(time.perf_counter() - t)
            stats["status"].append(resp.status_code)
            body = resp.json()
            if not body["ok"]:
                bad = {p["row"] for p in body["rejected"]}
                stats["rejected_rows"] += len(bad)
                again = [r for k, r in enumerate(chunk, 1) if k not in bad]
                t = time.perf_counter()
                resp = client.post("/activities/import", json={"activities": again})
                stats["batch"].append(time.perf_counter() - t)
                stats["status"].append(resp.status_code)
    return stats


def load(url: str, clients: int, per_client: int, batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, service(url, clients, Path(tmp)) as (base, tokens):
        t = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda tok: run_client(base, tok, per_client, batch), tokens))
        wall = time.perf_counter() - t
    return {"results": results, "wall": wall, "records": clients * per_client}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/iecmhc_load")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    out = load(args.url, args.clients, args.records, args.batch)
    single = [x for r in out["results"] for x in r["single"]]
    batch = [x for r in out["results"] for x in r["batch"]]
    print(f"{args.clients} clients × {args.records} records, batches of {args.batch}")
    print(f"wall {out['wall']:.1f} s, throughput {out['records'] / out['wall']:,.0f} records/s")
    for name, xs in (("POST /activities", single), ("POST /activities/import", batch)):
        print(f"{name:24} n={len(xs):5}  p50 {pct(xs, 50):7.1f} ms  p99 {pct(xs, 99):7.1f} ms")
    print("statuses:", sorted({s for r in out["results"] for s in r["status"]}))


if __name__ == "__main__":
    main()
