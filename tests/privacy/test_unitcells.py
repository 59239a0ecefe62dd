"""The one-read bounding of ``bounds="auto"`` releases equals the store's reference bounding."""

from __future__ import annotations

import random

import pytest

from iecmhc_tracker._unitcells import UnitCells
from iecmhc_tracker.stores.bounding import bound_partials

KEYS = [(f"c{i}", y) for i in range(7) for y in (2024, 2025)]


def _partials(seed: int) -> list[tuple[str, tuple[str, int], int, tuple[float, float]]]:
    rng = random.Random(seed)
    out = []
    for u in range(40):
        for cell in rng.sample(KEYS, rng.randint(1, len(KEYS))):
            # some negative sums (a correction), some far above any clip
            out.append((f"u{u}", cell, 1, (rng.uniform(-5, 300), float(rng.randint(0, 40)))))
    return out


@pytest.mark.parametrize("norm", ["l1", "l2", None])
@pytest.mark.parametrize("seed", range(5))
def test_bounded_equals_the_reference(norm: str | None, seed: int) -> None:
    partials = _partials(seed)
    kw = {"clip": [80.0, 12.0], "norm": norm, "norm_bounds": [250.0, 30.0], "max_cells": None}
    want = dict(bound_partials(partials, **kw))  # type: ignore[arg-type]
    got = UnitCells.read(partials, KEYS, 2).bounded(**kw)  # type: ignore[arg-type]
    for i, key in enumerate(KEYS):
        for j in range(2):
            assert got[j][i] == pytest.approx(want.get(key, (0.0, 0.0))[j], rel=1e-12, abs=1e-9)


def test_max_cells_keeps_at_most_k_cells_of_each_unit() -> None:
    partials = [(f"u{u}", key, 1, (1.0, 1.0)) for u in range(30) for key in KEYS[: 3 + u % 9]]
    cells = UnitCells.read(partials, KEYS, 2)
    for _ in range(20):
        got = cells.bounded(clip=[1.0, 1.0], norm="max_cells", norm_bounds=[0, 0], max_cells=5)
        # every unit has 3..11 cells with 1 in each: it keeps min(its cells, 5) of them
        assert sum(got[0]) == sum(min(3 + u % 9, 5) for u in range(30))
        assert max(got[0]) <= 30


def test_max_cells_chooses_at_random() -> None:
    partials = [("u0", key, 1, (1.0, 1.0)) for key in KEYS]
    cells = UnitCells.read(partials, KEYS, 2)
    seen = {
        tuple(cells.bounded(clip=[1, 1], norm="max_cells", norm_bounds=[0, 0], max_cells=2)[0])
        for _ in range(30)
    }
    assert len(seen) > 5


def test_per_unit_norms_and_largest_cell() -> None:
    partials = [
        ("a", KEYS[0], 1, (3.0, 1.0)),
        ("a", KEYS[1], 1, (-2.0, 4.0)),
        ("b", KEYS[2], 1, (5.0, 0.0)),
        ("a", ("nowhere", 2025), 1, (100.0, 100.0)),  # not a public cell: not read
    ]
    cells = UnitCells.read(partials, KEYS, 2)
    assert cells.n_units == 2
    l1, l2, top = cells.per_unit("l1"), cells.per_unit("l2"), cells.per_unit("max")
    assert list(l1[0]) == [3.0, 5.0] and list(l1[1]) == [5.0, 0.0]
    assert list(l2[1]) == pytest.approx([17**0.5, 0.0])
    assert list(top[0]) == [3.0, 5.0] and list(top[1]) == [4.0, 0.0]
