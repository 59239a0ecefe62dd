"""Time the note screen per note, and measure it on the corpus.

    PYTHONPATH=src python benchmarks/pii_bench.py [PROFILE] [REPEATS]

Notes of about 300 characters are made by joining consecutive corpus notes
(``tests/pii_corpus/``), so each holds a mix of clean text, names, numbers and dates. Each is
screened ``REPEATS`` times after a warm-up; the median and the 99th percentile of the per-note
wall time are printed (over every run, and over each note's best run: on a shared machine the
first p99 holds the scheduler's pauses too), then recall and false positives on the tuning
and held-out notes.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import iecmhc_tracker as it
from iecmhc_tracker._pii import Screen

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "pii_corpus"


def notes(split: str) -> list[dict[str, Any]]:
    lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def long_notes(texts: list[str], length: int = 300) -> list[str]:
    out = []
    for i in range(len(texts)):
        joined, j = "", i
        while len(joined) < length and j < len(texts):
            joined = f"{joined} {texts[j]}".strip()
            j += 1
        if len(joined) >= length:
            out.append(joined[:length])
    return out


def figures(run: Screen, split: str) -> tuple[int, int, int, int]:
    expected = found = clean = flagged = 0
    for note in notes(split):
        kinds = {h.kind for h in run(note["text"])}
        if note["kinds"]:
            expected += len(note["kinds"])
            found += len(set(note["kinds"]) & kinds)
        else:
            clean += 1
            flagged += bool(kinds)
    return found, expected, flagged, clean


def main(profile_name: str = "illinois", repeats: int = 20) -> None:
    profile = it.load_profile(profile_name)
    run = Screen(profile.languages, [c.label for c in profile.counties])
    texts = [n["text"] for split in ("tune", "heldout") for n in notes(split)]
    batch = long_notes(texts)
    for text in batch:  # warm-up: compiled patterns, the gazetteer
        run(text)
    times: list[float] = []
    best = [float("inf")] * len(batch)
    for _ in range(repeats):
        for i, text in enumerate(batch):
            start = time.perf_counter()
            run(text)
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            best[i] = min(best[i], elapsed)
    print(f"{profile_name}: {len(batch)} notes of 300 characters x {repeats}")
    for label, values in (("every run", times), ("each note's best run", best)):
        values = sorted(values)
        median = statistics.median(values) * 1e3
        p99 = values[int(len(values) * 0.99)] * 1e3
        print(f"screen per note, {label}: median {median:.3f} ms, p99 {p99:.3f} ms")
    for split in ("tune", "heldout"):
        found, expected, flagged, clean = figures(run, split)
        print(
            f"{split:8s} recall {found}/{expected} = {found / expected:.1%}, "
            f"false positives {flagged}/{clean} = {flagged / clean:.1%}"
        )


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 else "illinois",
        int(sys.argv[2]) if len(sys.argv) > 2 else 20,
    )
