"""Tumult Analytics on Spark local[2]: two grouped queries (count, sum) at ε = 0.5 each.

Tumult's per-ID constraints take one grouping column, so the three key columns are joined into
one ``cell`` column before the session is made; MaxGroupsPerID("cell", 12) and
MaxRowsPerGroupPerID("cell", 300) are the same bounds as the others, sum clamps rows to [0, 8],
and the group-by uses the 1224 public keys as a KeySet. Spark start-up and caching the input are
timed apart from the release.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version

from _common import (
    EPS_COUNT,
    EPS_HOURS,
    HOURS_LOWER,
    HOURS_UPPER,
    KEYS,
    MAX_CELLS,
    MAX_ROWS,
    load_keys,
    run,
)

SEP = "|"


def body(args, clock, info):
    import tmlt.analytics as ta
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    info["version"] = f"tmlt.analytics {version('tmlt.analytics')}, pyspark {version('pyspark')}"
    # Spark's Python workers must be this venv's interpreter (they import tmlt)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with clock("spark_start"):
        spark = (
            SparkSession.builder.master(os.environ.get("BENCH_SPARK_MASTER", "local[2]"))
            .config("spark.driver.memory", os.environ.get("BENCH_SPARK_MEMORY", "4g"))
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
    with clock("load"):
        df = spark.read.parquet(args.data).select("consultant", *KEYS, "hours")
        df = df.withColumn(
            "cell",
            F.concat_ws(SEP, "county", "consultation_type", F.col("fiscal_year").cast("string")),
        ).select("consultant", "cell", "hours")
        df = df.cache()
        info["rows"] = df.count()
        keys = load_keys(args.keys)
        cells = [f"{c}{SEP}{t}{SEP}{y}" for c, t, y in keys]
    with clock("release"):
        session = ta.Session.from_dataframe(
            privacy_budget=ta.PureDPBudget(EPS_COUNT + EPS_HOURS),
            source_id="activities",
            dataframe=df,
            protected_change=ta.AddRowsWithID(id_column="consultant"),
        )
        keyset = ta.KeySet.from_dict({"cell": cells})

        def bounded():
            return (
                ta.QueryBuilder("activities")
                .enforce(ta.MaxGroupsPerID("cell", MAX_CELLS))
                .enforce(ta.MaxRowsPerGroupPerID("cell", MAX_ROWS))
                .groupby(keyset)
            )

        counts = session.evaluate(
            bounded().count(name="n", mechanism="laplace"), ta.PureDPBudget(EPS_COUNT)
        ).toPandas()
        sums = session.evaluate(
            bounded().sum("hours", HOURS_LOWER, HOURS_UPPER, name="h", mechanism="laplace"),
            ta.PureDPBudget(EPS_HOURS),
        ).toPandas()
    merged = counts.merge(sums, on="cell", how="outer")
    out = []
    for cell, n, h in merged[["cell", "n", "h"]].itertuples(index=False):
        c, t, y = cell.split(SEP)
        out.append((c, t, int(y), float(n), float(h)))
    spark.stop()
    return out


if __name__ == "__main__":
    run("tumult", body)
