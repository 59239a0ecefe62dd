"""A state that is not shipped: Lakeshore, adapted with one TOML file and no code.

    python examples/new_state_profile/run.py [OUTDIR]

Loads ``lakeshore.toml`` (its own counties, regions, October fiscal year, activity kinds, an
extra ``partner_type`` field, published tables and privacy policy), records and imports
activity, prints a consultant's summary and a researcher's release, and writes the REDCap
data dictionary a Lakeshore REDCap project would be built from.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import iecmhc_tracker as it

HERE = Path(__file__).resolve().parent


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    profile = it.load_profile(HERE / "lakeshore.toml")  # a ProfileError names any bad line
    print(
        f"{profile.label}: {len(profile.counties)} counties in {len(profile.regions)} regions, "
        f"fiscal year from month {profile.fiscal_year_start_month}"
    )
    tracker = it.Tracker.open(
        f"sqlite:///{out / 'lakeshore.db'}", profile=profile, cache_dir=out / "cache"
    )
    today = dt.date.today()

    # Lakeshore's extra field goes under "extra"; its rules come from the profile.
    day = today - dt.timedelta(days=10)
    tracker.record(
        {
            "consultant": "c-ls01",
            "program": "p-ls-77",
            "date": day,
            "county": "pine_ridge",
            "kind": "consultation",
            "setting": "tribal_child_care",
            "consultation_type": "programmatic",
            "hours": "2",
            "language": "ojibwe",
            "extra": {"partner_type": "tribal_nation", "winter_outreach": True},
        }
    )
    try:  # the profile requires partner_type for a consultation
        tracker.record(
            {
                "consultant": "c-ls01",
                "date": day,
                "county": "marina",
                "kind": "consultation",
                "setting": "child_care",
                "consultation_type": "classroom",
                "hours": "1",
            }
        )
    except it.ValidationError as exc:
        print("refused:", "; ".join(f"{p.field} [{p.code}]" for p in exc.problems))

    result = tracker.record_many(
        it.generate_activities(profile, 1500, consultants=24, seed=3, today=today)
    )
    print(f"imported {result.inserted} activities ({result.duplicates} already stored)")

    me = tracker.as_consultant("c-ls01")
    print(f"c-ls01: {me.summary()['hours']:.2f} hours")

    # Lakeshore's own published table, filtered on its own field, suppressed for the state
    last_year = profile.fiscal_year(today) - 1
    tribal = tracker.as_state().table("tribal_partnerships", fiscal_year=last_year)
    print(tribal.to_pandas()[["setting_label", "hours", "hours_flag"]].to_string(index=False))

    lab = tracker.as_researcher("analyst-lakeshore")
    query = it.Query(
        measures=["hours"],
        by=["region"],
        where={"kind": "consultation", "fiscal_year": last_year},
    )
    print(lab.release(query).to_pandas().to_string(index=False))  # the profile's default ε
    print(lab.budget)

    from adapters.redcap.dictionary import render  # the REDCap instrument for Lakeshore

    (out / "lakeshore_redcap_dictionary.csv").write_text(render(profile), encoding="utf-8")
    tracker.close()
    print(f"files in {out}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for adapters/
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="iecmhc-")))
