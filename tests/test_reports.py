"""Reports render in a real browser, show the right totals, escape everything, and never
show anyone else's data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html.parser import HTMLParser

import pytest

import iecmhc_tracker as it
from browser import chromium, rendered_dom, why_not
from iecmhc_tracker._reports import funding_data

TODAY = dt.date(2026, 11, 1)
SCRIPT = "<script>document.title='pwned'</script>"


def _visible_text(html: str) -> str:
    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.skip += tag in ("style", "script", "title")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("style", "script", "title")

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    p = P()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


@pytest.fixture()
def tracker() -> it.Tracker:
    t = it.Tracker.open("memory://", "illinois", today=lambda: TODAY)
    base = {
        "consultant": "c-me",
        "program": "p-1",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
    }
    # hand-computed: FY2025 hours 1.5 + 2.25 + 3 (training) = 6.75; referrals 2 + 1 = 3
    t.record({**base, "date": "2024-09-10", "hours": "1.5", "methods": ["reflecting"]})
    t.record(
        {
            **base,
            "date": "2025-02-03",
            "hours": "2.25",
            "consultation_type": "programmatic",
            "methods": ["reflecting", "modeling"],
        }
    )
    t.record(
        {
            **base,
            "date": "2025-03-03",
            "kind": "training",
            "consultation_type": None,
            "hours": "3",
            "participants": 12,
        }
    )
    t.record(
        {
            **base,
            "date": "2025-04-01",
            "kind": "referral_only",
            "consultation_type": None,
            "referrals": {"housing": 2, "food": 1},
        }
    )
    t.record(
        {
            **base,
            "consultant": "c-other",
            "program": "p-2",
            "date": "2025-01-15",
            "hours": "7.75",
            "note": "Reflected on transitions.",
        }
    )
    return t


def test_portfolio_numbers_are_the_consultants_own(tracker: it.Tracker) -> None:
    data = tracker.as_consultant("c-me").portfolio_data(2025)
    assert (data["activities"], data["hours"], data["training_hours"]) == (4, 6.75, 3.0)
    assert data["referrals"] == 3
    assert dict(map(tuple, data["hours_by_type"])) == {"Classroom": 1.5, "Programmatic": 2.25}
    assert dict(map(tuple, data["methods"])) == {"Reflecting": 2, "Modeling": 1}


def test_portfolio_never_contains_another_consultants_data(tracker: it.Tracker) -> None:
    html = tracker.as_consultant("c-me").portfolio_html()
    assert "c-other" not in html and "7.75" not in html and "transitions" not in html


def test_exports_hold_exactly_the_reports_numbers(tracker: it.Tracker) -> None:
    me = tracker.as_consultant("c-me")
    data = me.portfolio_data(2025)
    from iecmhc_tracker._reports import to_csv, to_json

    assert json.loads(to_json(data))["hours"] == 6.75
    rows = list(csv.DictReader(io.StringIO(to_csv(data))))
    assert {"section": "hours", "label": "", "value": "6.75"} in rows
    assert {"section": "referrals_by_type", "label": "Housing", "value": "2"} in rows


def test_script_in_free_text_and_labels_is_escaped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from iecmhc_tracker._profile import _read

    text, _ = _read("illinois")
    text = text.replace('label = "Head Start"', f'label = "Head {SCRIPT} Start"')
    text = text.replace('label = "Classroom"', f'label = "Class{SCRIPT}room"', 1)
    path = tmp_path / "evil.toml"
    path.write_text(text)
    t = it.Tracker.open("memory://", it.load_profile(path), today=lambda: TODAY)
    t.record(
        {
            "consultant": "c-me",
            "program": "p-1",
            "county": "cook",
            "kind": "consultation",
            "setting": "head_start",
            "consultation_type": "classroom",
            "date": "2025-01-02",
            "hours": "1",
        }
    )
    for html in (t.as_consultant("c-me").portfolio_html(), t.as_program("p-1").reflection_html()):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_program_reflection_lists_its_contacts_only(tracker: it.Tracker) -> None:
    data = tracker.as_program("p-1").reflection_data()
    assert len(data["contacts"]) == 4 and data["consultants"] == 1
    assert data["hours"] == pytest.approx(6.75)
    html = tracker.as_program("p-1").reflection_html()
    assert "c-other" not in html


@pytest.mark.slow
def test_portfolio_renders_in_chromium_with_the_totals(tracker: it.Tracker) -> None:
    if chromium() is None:
        pytest.skip(why_not())
    dom = rendered_dom(tracker.as_consultant("c-me").portfolio_html(2025))
    text = _visible_text(dom)
    assert re.search(r"6\.75 hours of consultation", text)
    assert "4 activities recorded" in text
    assert "3 referrals to community resources" in text
    assert "<svg" in dom


@pytest.mark.slow
def test_program_reflection_renders_in_chromium(tracker: it.Tracker) -> None:
    if chromium() is None:
        pytest.skip(why_not())
    text = _visible_text(rendered_dom(tracker.as_program("p-1").reflection_html()))
    assert "4 contacts with consultants" in text and "6.75 hours of support" in text


def test_funding_counts_children_engaged_as_reached_and_shows_outcomes_once() -> None:
    """Engagement figures: children in child-and-family engagements among those reached, the
    requests and placements in the outcomes block only, not repeated among services."""
    profile = it.load_profile("illinois")
    today = dt.date(2026, 11, 1)
    tracker = it.Tracker.open("memory://", profile, today=lambda: today)
    tracker.record_many(list(it.generate_activities(profile, 2000, seed=5, today=today)))
    more = it.generate_engagements(profile, 600, consultants=40, seed=5, today=today)
    assert tracker.record_many([*more.engagements, *more.requests, *more.activities]).ok
    data = funding_data(profile, list(tracker.as_state().tables().values()), 2026)
    reached = [r["label"] for r in data["reach"]]
    services = [r["label"] for r in data["rows"]]
    outcomes = [r["label"] for r in data["outcomes"]]
    assert "Children in child-and-family engagements" in reached
    assert "Engagements opened" in services
    assert "Requests for consultation" in outcomes
    assert not {"Requests for consultation", "Children suspended"} & set(services)
    assert "publishes no count of children reached" not in data["reach_note"]
