"""Quickstart: record, import, report and query with iecmhc_tracker.

    python examples/quickstart.py [OUTDIR]

Writes ``tracker.db`` (embedded SQLite) and ``portfolio.html`` into OUTDIR (a new temporary
directory by default) and prints what each role sees: a consultant's own numbers, the state's
suppressed table and a researcher's differentially private release.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import iecmhc_tracker as it


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tracker = it.Tracker.open(
        f"sqlite:///{out / 'tracker.db'}", profile="illinois", cache_dir=out / "cache"
    )
    today = dt.date.today()

    # 1. A consultant records one activity (the embedding software builds this mapping).
    #    The id is the idempotency key: recording the same activity again changes nothing.
    stored = tracker.record(
        {
            "id": "7b0c4b38-9f61-4c9d-9d0e-6a1f6c2f8f11",
            "consultant": "c-7f3a",
            "program": "p-0192",
            "date": "2025-03-04",
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "classroom",
            "hours": "1.5",
            "methods": ["reflecting", "modeling"],
            "note": "Reflected with the lead teacher about transitions.",
        }
    )
    print(f"recorded {stored.id} ({stored.hours} h of {stored.consultation_type} consultation)")

    # 2. A bad record is refused with every problem at once, and nothing is stored.
    try:
        tracker.record(
            {
                "consultant": "c-7f3a",
                "date": today,
                "county": "atlantis",
                "kind": "consultation",
                "hours": "30",
            }
        )
    except it.ValidationError as exc:
        print("refused:")
        for p in exc.problems:
            print(f"  {p.field}: {p.message} [{p.code}]")

    # 3. Bulk import, idempotent on Activity.id (running this script twice adds nothing twice).
    result = tracker.record_many(
        it.generate_activities(tracker.profile, 3000, consultants=40, seed=7, today=today)
    )
    print(
        f"imported: {result.inserted} new, {result.duplicates} already stored, "
        f"{len(result.rejected)} problems"
    )

    # 4. A consultant sees their own exact numbers and portfolio, nobody else's.
    me = tracker.as_consultant("c-0003")
    summary = me.summary()
    print(f"c-0003: {summary['activities']} activities, {summary['hours']:.2f} hours")
    (out / "portfolio.html").write_text(me.portfolio_html(), encoding="utf-8")

    # 5. The state sees only the profile's published tables, with small cells withheld.
    state = tracker.as_state()
    last_year = tracker.profile.fiscal_year(today) - 1
    table = state.table("hours_by_setting", fiscal_year=last_year).to_pandas()
    print(table[["setting_label", "hours", "hours_flag"]].to_string(index=False))

    # 6. A researcher gets differentially private numbers with 95 % intervals, on a budget.
    lab = tracker.as_researcher("analyst-1")
    query = it.Query(measures=["hours"], by=["consultation_type"], where={"kind": "consultation"})
    release = lab.release(query, epsilon=0.5)
    print(release.to_pandas().to_string(index=False))
    print(lab.budget)
    tracker.close()
    print(f"files in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="iecmhc-")))
