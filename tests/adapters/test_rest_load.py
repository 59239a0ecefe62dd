"""The REST service under load: uvicorn in a subprocess on PostgreSQL, 16 concurrent clients
× 2,000 records through the single and the batch endpoint, with replays and invalid records.
Nothing lost, nothing stored twice, no 5xx, every invalid record reported. The figures are
``benchmarks/rest_load.py``'s to print; none is asserted here."""

from __future__ import annotations

import pytest
from benchmarks.rest_load import load

import iecmhc_tracker as it

pytestmark = [pytest.mark.services, pytest.mark.slow]
CLIENTS, PER_CLIENT = 16, 2000


def test_concurrent_clients_lose_nothing_and_store_nothing_twice(pg_url: str) -> None:
    with it.Tracker.open(pg_url, "illinois"):
        pass  # create the tables before the clients race to
    out = load(pg_url, CLIENTS, PER_CLIENT, batch=200)
    results = out["results"]
    assert all(s < 500 for r in results for s in r["status"])
    assert all(r["rejected_rows"] == r["invalid"] for r in results)
    with it.Tracker.open(pg_url, "illinois") as t:
        for n, r in enumerate(results):
            ids = [row["id"] for row in t.store.rows(consultant=f"c-load-{n}")]
            assert len(ids) == len(set(ids))  # nothing twice
            assert set(ids) == r["sent_valid_ids"]  # nothing lost, nothing invalid stored
