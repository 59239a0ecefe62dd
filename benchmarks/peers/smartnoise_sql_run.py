"""SmartNoise SQL on the shared SQLite table: one SQL query with COUNT(*) and SUM(hours).

SmartNoise bounds a unit by *rows in the whole table* (``max_ids``), not per cell, so the
closest equivalent of "12 cells x 300 rows" is ``max_ids = 3600``; the COUNT then has
sensitivity 3600 and the SUM 3600 x 8, the same L1 bounds as the others. It has no public
partitions: ``censor_dims=False`` releases every cell present in the data (and none absent).
"""

from __future__ import annotations

import sqlite3
from importlib.metadata import version

from _common import EPSILON, HOURS_LOWER, HOURS_UPPER, MAX_CELLS, MAX_ROWS, run


def body(args, clock, info):
    import snsql
    from snsql import Privacy

    info["version"] = "smartnoise-sql " + version("smartnoise-sql")
    meta = {
        "bench": {
            "main": {
                "activities": {
                    "row_privacy": False,
                    "max_ids": MAX_CELLS * MAX_ROWS,
                    "sample_max_ids": True,
                    "censor_dims": False,
                    "clamp_counts": False,
                    "consultant": {"name": "consultant", "type": "string", "private_id": True},
                    "county": {"name": "county", "type": "string"},
                    "consultation_type": {"name": "consultation_type", "type": "string"},
                    "fiscal_year": {"name": "fiscal_year", "type": "int"},
                    "hours": {
                        "name": "hours",
                        "type": "float",
                        "lower": HOURS_LOWER,
                        "upper": HOURS_UPPER,
                        "nullable": False,
                    },
                }
            }
        }
    }
    sql = (
        "SELECT county, consultation_type, fiscal_year, COUNT(*) AS n, SUM(hours) AS h "
        "FROM main.activities GROUP BY county, consultation_type, fiscal_year"
    )
    with clock("connect"):
        conn = sqlite3.connect(args.sqlite)
    with clock("release"):
        # SmartNoise charges ε per aggregate column; two columns at ε/2 each = ε in total
        privacy = Privacy(epsilon=EPSILON / 2, delta=0.0)
        reader = snsql.from_connection(conn, engine="sqlite", privacy=privacy, metadata=meta)
        info["privacy_cost"] = list(reader.get_privacy_cost(sql))
        rows = reader.execute(sql)
    header, data = rows[0], rows[1:]
    info["header"] = list(header)
    return [(c, t, int(y), float(n), float(h)) for c, t, y, n, h in data]


if __name__ == "__main__":
    run("smartnoise-sql", body)
