"""PipelineDP (LocalBackend): one DPEngine.aggregate with COUNT and SUM over the public keys.

Bounds map one to one: max_partitions_contributed=12, max_contributions_per_partition=300,
min_value/max_value=[0, 8] per row; Laplace, total ε = 1, δ = 0 (public partitions need no δ).
"""

from __future__ import annotations

from importlib.metadata import version

from _common import (
    EPSILON,
    HOURS_LOWER,
    HOURS_UPPER,
    KEYS,
    MAX_CELLS,
    MAX_ROWS,
    load_keys,
    run,
)


def body(args, clock, info):
    import pipeline_dp
    import pyarrow.parquet as pq

    info["version"] = "pipeline-dp " + version("pipeline-dp")
    with clock("load"):
        t = pq.read_table(args.data, columns=["consultant", *KEYS, "hours"])
        rows = list(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))
        keys = load_keys(args.keys)
        del t
    with clock("release"):
        accountant = pipeline_dp.NaiveBudgetAccountant(total_epsilon=EPSILON, total_delta=0.0)
        engine = pipeline_dp.DPEngine(accountant, pipeline_dp.LocalBackend())
        params = pipeline_dp.AggregateParams(
            metrics=[pipeline_dp.Metrics.COUNT, pipeline_dp.Metrics.SUM],
            noise_kind=pipeline_dp.NoiseKind.LAPLACE,
            max_partitions_contributed=MAX_CELLS,
            max_contributions_per_partition=MAX_ROWS,
            min_value=HOURS_LOWER,
            max_value=HOURS_UPPER,
        )
        extractors = pipeline_dp.DataExtractors(
            privacy_id_extractor=lambda r: r[0],
            partition_extractor=lambda r: (r[1], r[2], r[3]),
            value_extractor=lambda r: r[4],
        )
        result = engine.aggregate(rows, params, extractors, public_partitions=keys)
        accountant.compute_budgets()
        out = [(k[0], k[1], k[2], float(m.count), float(m.sum)) for k, m in result]
    return out


if __name__ == "__main__":
    run("pipelinedp", body)
