"""The embedding example of ``docs/embedding.md``, run: ``python -m adapters.sqlalchemy_embed
[URL]`` from the checkout's root (where ``adapters/`` is), with the package installed.

Without a URL it works in a new SQLite file in a temporary directory; with one
(``postgresql+psycopg://…``, ``mysql+pymysql://…``) in that database. Run it again on the same
database and the site is found rather than added; each run logs one more visit.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from . import Visit, create_app_tables, log_visit, open_tracker, site_for


def main(url: str) -> None:
    # -- the with block and what comes before it: as docs/embedding.md shows them ----------
    tracker = open_tracker(url)  # tables iecmhc_* beside the app's
    create_app_tables(tracker)
    with Session(tracker.store.engine) as session:
        site = site_for(session, code="p-0192", county="cook", setting="head_start")
        log_visit(session, tracker, site=site, consultant="c-7f3a", day=dt.date(2025, 3, 4),
                  hours=Decimal("1.5"), consultation_type="classroom")
        session.commit()  # the visit and its activity together, or neither
    # -----------------------------------------------------------------------------------
    with Session(tracker.store.engine) as session:
        visits = session.query(Visit).count()
    summary = tracker.as_consultant("c-7f3a").summary()
    print(
        f"committed together: {visits} visit(s) in the application's table, "
        f"{summary['activities']} activity(ies) of {summary['hours']} h in the tracker's "
        f"({tracker.store!r})"
    )
    tracker.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory(prefix="iecmhc-embed-") as tmp:
            main(f"sqlite:///{Path(tmp) / 'app.db'}")
