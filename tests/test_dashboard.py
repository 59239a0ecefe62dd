"""The state dashboard and the funding summary: right totals in a real browser, withheld cells
never shown, tiers for California, everything escaped."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import iecmhc_tracker as it
from browser import chromium, rendered_dom, why_not
from iecmhc_tracker._reports import funding_data, funding_html
from iecmhc_tracker.cli import app
from test_reports import SCRIPT, _visible_text

TODAY = dt.date(2026, 11, 1)
YEAR = 2026  # last complete fiscal year before TODAY


def _tracker(profile: str | it.Profile = "illinois", n: int = 6000) -> tuple[it.Tracker, list]:
    t = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    acts = list(it.generate_activities(t.profile, n, consultants=80, today=TODAY, seed=3))
    t.record_many(acts)
    return t, acts


def _expected_hours(profile: it.Profile, acts: list, year: int, kind: str) -> Decimal:
    # computed from the generated activities themselves, not by the code under test
    return sum(
        (a.hours for a in acts if a.kind == kind and profile.fiscal_year(a.date) == year),
        Decimal(0),
    )


def _fmt(v: Decimal) -> str:
    f = float(v)
    return f"{f:,.0f}" if f.is_integer() else f"{f:,.2f}"


def test_dashboard_tiles_show_the_statewide_totals() -> None:
    t, acts = _tracker()
    data = t.as_state().dashboard_data(YEAR)
    tiles = {tile["label"]: tile["value"] for tile in data["tiles"]}
    assert tiles["Hours of consultation"] == pytest.approx(
        float(_expected_hours(t.profile, acts, YEAR, "consultation"))
    )
    assert tiles["Hours of training"] == pytest.approx(
        float(_expected_hours(t.profile, acts, YEAR, "training"))
    )


def test_a_lone_consultants_region_is_never_shown() -> None:
    t, acts = _tracker()
    lone = t.as_consultant("c-lone")
    region = "region_5"
    county = next(c.code for c in t.profile.counties if c.region == region)
    # nobody else works in that region this year: drop their activity there first
    for a in acts:
        if t.profile.region_of(a.county) == region:
            t.as_consultant(a.consultant).delete(a.id)
    secret = "13.25"
    lone.record(
        {
            "consultant": "c-lone",
            "program": "p-x",
            "date": "2025-10-06",
            "county": county,
            "kind": "consultation",
            "setting": "preschool",
            "consultation_type": "classroom",
            "hours": secret,
        }
    )
    html = t.as_state().dashboard_html(YEAR)
    text = _visible_text(html)
    label = t.profile.code_label("region", region)
    row = re.search(re.escape(label) + r"\s+(\S+)", text)
    assert row is not None and row.group(1) == "withheld"
    assert secret not in text


def test_california_dashboard_is_tiered() -> None:
    t, _ = _tracker("california", 4000)
    text = _visible_text(t.as_state().dashboard_html(YEAR))
    positions = [text.find(f"{tier} services") for tier in ("Universal", "Targeted", "Intensive")]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_labels_are_escaped_in_the_dashboard(tmp_path: Path) -> None:
    from iecmhc_tracker._profile import _read

    text, _ = _read("illinois")
    text = text.replace('label = "Classroom"', f'label = "Class{SCRIPT}room"', 1)
    text = text.replace('title = "Hours of training"', f'title = "Training {SCRIPT}"')
    path = tmp_path / "evil.toml"
    path.write_text(text)
    t, _ = _tracker(it.load_profile(path), 3000)
    tables = list(t.as_state().tables().values())
    funding = funding_html(t.profile, funding_data(t.profile, tables, through=YEAR))
    for html in (t.as_state().dashboard_html(YEAR), funding):
        assert "<script>" not in html
    assert "&lt;script&gt;" in t.as_state().dashboard_html(YEAR)


def test_funding_summary_via_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    with it.Tracker.open(db, "illinois") as t:
        acts = list(it.generate_activities(t.profile, 3000, consultants=60, today=dt.date.today()))
        t.record_many(acts)
        prof = t.profile
    year = prof.fiscal_year(dt.date.today()) - 1
    out = tmp_path / "funding.json"
    done = CliRunner().invoke(
        app, ["report", "funding", "--db", db, "--format", "json", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text())
    assert data["years"][-1] == year
    row = next(r for r in data["rows"] if r["label"] == "Hours of consultation")
    assert row["values"][-1] == pytest.approx(
        float(_expected_hours(prof, acts, year, "consultation"))
    )
    html_out = tmp_path / "dash.html"
    done = CliRunner().invoke(app, ["report", "dashboard", "--db", db, "--out", str(html_out)])
    assert done.exit_code == 0 and "state dashboard" in html_out.read_text()


@pytest.mark.slow
def test_dashboard_renders_in_chromium_with_the_totals() -> None:
    if chromium() is None:
        pytest.skip(why_not())
    t, acts = _tracker()
    dom = rendered_dom(t.as_state().dashboard_html(YEAR))
    text = _visible_text(dom)
    hours = _fmt(_expected_hours(t.profile, acts, YEAR, "consultation"))
    assert f"{hours} Hours of consultation" in text
    assert dom.count("<svg") >= 5


@pytest.mark.slow
def test_funding_summary_renders_in_chromium_with_the_totals() -> None:
    if chromium() is None:
        pytest.skip(why_not())
    t, acts = _tracker()
    tables = list(t.as_state().tables().values())
    text = _visible_text(rendered_dom(funding_html(t.profile, funding_data(t.profile, tables))))
    hours = _fmt(_expected_hours(t.profile, acts, YEAR, "consultation"))
    row = re.search(r"Hours of consultation (.*?) Consultation activities", text)
    assert row is not None and hours in row.group(1)
