"""OpenDP's polars Context API: one query with dp.len() and a clipped dp.sum over public keys.

Unit = consultant via ``identifier``; bounds by truncation in the query:
``truncate_per_group(300)`` then ``truncate_num_groups(12, keep="first")`` (``keep="sample"``
fails in OpenDP 0.16 with polars 1.36 on multi-column keys: "multiple fields with name 'county'";
"first" is still a per-unit choice, so the guarantee is the same). Scales are set to give ε/2
to each statistic (OpenDP's own split puts almost all ε on the count); the compositor then
adjusts them to meet ε = 1 exactly. ``signed=True`` releases the raw noisy count (no clamp at 0),
like the other systems. The data is read eagerly (OpenDP refuses a lazy Parquet scan plan).
"""

from __future__ import annotations

from importlib.metadata import version

from _common import (
    EPS_COUNT,
    EPS_HOURS,
    EPSILON,
    HOURS_LOWER,
    HOURS_UPPER,
    KEYS,
    MAX_CELLS,
    MAX_ROWS,
    SENS_COUNT,
    SENS_HOURS,
    load_keys,
    run,
)


def body(args, clock, info):
    import opendp.prelude as dp
    import polars as pl

    dp.enable_features("contrib")
    info["version"] = f"opendp {version('opendp')}, polars {version('polars')}"
    with clock("load"):
        frame = pl.read_parquet(args.data, columns=["consultant", *KEYS, "hours"])
        keys = pl.DataFrame(
            load_keys(args.keys),
            schema=[
                ("county", pl.String),
                ("consultation_type", pl.String),
                ("fiscal_year", pl.Int32),
            ],
            orient="row",
        )
    with clock("release"):
        ctx = dp.Context.compositor(
            data=frame.lazy(),
            privacy_unit=dp.unit_of(contributions=1, identifier="consultant"),
            privacy_loss=dp.loss_of(epsilon=EPSILON),
            split_evenly_over=1,
            # the most rows a cell could hold is public knowledge (the table size)
            margins=[dp.polars.Margin(by=KEYS, max_length=max(frame.height, 1))],
        )
        query = (
            ctx.query()
            .truncate_per_group(MAX_ROWS, by=KEYS)
            .truncate_num_groups(MAX_CELLS, by=KEYS, keep="first")
            .group_by(KEYS)
            .agg(
                dp.len(scale=SENS_COUNT / EPS_COUNT, signed=True).alias("n"),
                pl.col("hours")
                .dp.sum((HOURS_LOWER, HOURS_UPPER), scale=SENS_HOURS / EPS_HOURS)
                .alias("h"),
            )
            .with_keys(keys)
        )
        released = query.release().collect()
    with clock("summarize"):  # not part of the release: re-resolves the plan to show its scales
        summary = query.summarize()
    info["scales"] = {r["column"]: r["scale"] for r in summary.iter_rows(named=True)}
    return [
        (r["county"], r["consultation_type"], int(r["fiscal_year"]), float(r["n"]), float(r["h"]))
        for r in released.iter_rows(named=True)
    ]


if __name__ == "__main__":
    run("opendp-polars", body)
