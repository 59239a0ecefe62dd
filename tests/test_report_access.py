"""Every report reads on a phone and with a screen reader: no sideways scrolling from 360 px,
charts named and backed by a data table, WCAG 2.1 AA colours, no serious or critical axe-core
violation in headless Chromium at 390 and 1280 px."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import iecmhc_tracker as it
from browser import Page, axe_source, axe_violations, axe_why_not, chromium, why_not
from iecmhc_tracker._reports import funding_data, funding_html
from iecmhc_tracker.cli import app
from todate_profile import TABLE, todate_profile

TODAY = dt.date(2026, 12, 1)  # FY2027 (July start) is five months old
YEAR = 2026


@pytest.fixture(scope="module")
def demo() -> tuple[it.Tracker, list[it.Activity]]:
    t = it.Tracker.open("memory://", "illinois", today=lambda: TODAY)
    acts = list(it.generate_activities(t.profile, 6000, consultants=80, today=TODAY, seed=5))
    t.record_many(acts)
    return t, acts


def _busiest(acts: list[it.Activity], attr: str) -> str:
    return str(Counter(getattr(a, attr) for a in acts).most_common(1)[0][0])


@pytest.fixture(scope="module")
def reports(demo: tuple[it.Tracker, list[it.Activity]]) -> dict[str, str]:
    t, acts = demo
    state = t.as_state()
    tables = list(state.tables().values())
    return {
        "dashboard": state.dashboard_html(YEAR),
        "funding": funding_html(t.profile, funding_data(t.profile, tables, through=YEAR)),
        "portfolio": t.as_consultant(_busiest(acts, "consultant")).portfolio_html(),
        "program": t.as_program(_busiest(acts, "program")).reflection_html(),
    }


# -- colours ---------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_contrast_formula_matches_known_pairs() -> None:
    assert _contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert _contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss


def _palette(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """(text colours, graphic colours) the page's CSS and SVG use, by where they are used."""
    css = "\n".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))

    def resolve(value: str) -> str:
        value = value.strip()
        m = re.fullmatch(r"var\(--([\w-]+)\)", value)
        return variables[m.group(1)] if m else value

    text: dict[str, str] = {}
    graphics: dict[str, str] = {}
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        selector = " ".join(selector.split())
        for prop, value in re.findall(
            r"(?<![\w-])(color|fill|stroke|border[\w-]*):\s*([^;}]+)", body
        ):
            colours = [resolve(v) for v in re.findall(r"var\(--[\w-]+\)|#[0-9a-fA-F]{3,6}", value)]
            for c in colours:
                is_text = prop == "color" or (prop == "fill" and "text" in selector)
                (text if is_text else graphics)[f"{selector} {prop}"] = c
    for attr, colour in re.findall(r'\b(fill|stroke)="(#[0-9a-fA-F]{3,6})"', html):
        graphics[f"svg {attr} {colour}"] = colour
    return text, graphics


@pytest.mark.parametrize("name", ["dashboard", "funding", "portfolio", "program"])
def test_colours_meet_wcag_aa(reports: dict[str, str], name: str) -> None:
    text, graphics = _palette(reports[name])
    assert text and graphics
    backgrounds = ["#ffffff", "#eef3f6"]  # the page, and the table heads text may sit on
    for where, colour in text.items():
        for bg in backgrounds:
            assert _contrast(colour, bg) >= 4.5, f"{where}: {colour} on {bg}"
    # table rules (--line) only separate rows; every other graphic carries meaning
    rule = _palette(reports[name])[1].get("th, td border-bottom")
    for where, colour in graphics.items():
        if colour == rule:
            continue
        assert _contrast(colour, "#ffffff") >= 3.0, f"{where}: {colour}"


# -- charts: names and tables ----------------------------------------------------------------


class _Charts(HTMLParser):
    """Each <svg>: its attributes, and what follows it up to the next chart."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, str | None]] = []
        self.ids: dict[str, str] = {}
        self.tables_after: list[int] = []
        self._id: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.charts.append(a)
            self.tables_after.append(0)
        elif tag == "table" and self.tables_after:
            self.tables_after[-1] += 1
        if a.get("id"):
            self._id, self._text = a["id"], []

    def handle_data(self, data: str) -> None:
        if self._id:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._id:
            self.ids[self._id] = "".join(self._text).strip()
            self._id = None


@pytest.mark.parametrize("name", ["dashboard", "portfolio", "program"])
def test_every_chart_has_a_name_and_a_data_table(reports: dict[str, str], name: str) -> None:
    p = _Charts()
    p.feed(reports[name])
    assert p.charts
    for chart, tables in zip(p.charts, p.tables_after, strict=True):
        assert chart.get("role") == "img"
        assert chart.get("viewbox") and chart.get("width") is None  # scales with the page
        label = p.ids.get(chart.get("aria-labelledby") or "")
        assert label, f"chart without an accessible name: {chart}"
        assert tables >= 1, f"no data table after the chart {label!r}"


def test_the_fiscal_year_trend_has_its_table(reports: dict[str, str]) -> None:
    html = reports["dashboard"]
    trend = html[html.index('aria-labelledby="trend-t"') :]
    trend = trend[: trend.index("</figure>")]
    assert "<table>" in trend and '<th scope="row">FY2026</th>' in trend


# -- the current fiscal year and rates -------------------------------------------------------


def _hours(acts: list[it.Activity], keep: Callable[[it.Activity], bool]) -> float:
    return float(sum((a.hours or Decimal(0) for a in acts if keep(a)), Decimal(0)))


def test_the_current_fiscal_year_is_a_year_to_date(
    demo: tuple[it.Tracker, list[it.Activity]],
) -> None:
    # Illinois ships no to-date table: the current year is its exact year to date
    t, acts = demo
    trend = t.as_state().dashboard_data(YEAR)["trend"]
    labels = [item[0] for item in trend]
    assert "FY2027" not in labels  # never drawn as a full year
    last = trend[-1]
    assert last[0] == "FY2027 to date (through 1 December 2026)" and last[2] == "partial"
    fy = t.profile.fiscal_year
    assert last[1] == pytest.approx(
        _hours(acts, lambda a: a.kind == "consultation" and fy(a.date) == 2027)
    )


def test_with_a_to_date_table_the_current_year_is_its_noisy_value(tmp_path: Path) -> None:
    # no release of a year before is recorded, so the comparison comes from the DP table
    t = it.Tracker.open("memory://", todate_profile(tmp_path), today=lambda: TODAY)
    t.record_many(it.generate_activities(t.profile, 3000, consultants=40, today=TODAY, seed=5))
    trend = t.as_state().dashboard_data(YEAR)["trend"]
    assert "FY2027" not in [item[0] for item in trend]
    last = trend[-1]
    # to the end of November, from the to-date DP table (noisy: its own published value)
    assert last[0] == "FY2027 to date (through 30 November 2026)" and last[2] == "partial"
    assert last[1] == t.as_state().table(TABLE).value("hours", 2027)


def test_the_portfolio_marks_the_current_year_as_to_date(
    demo: tuple[it.Tracker, list[it.Activity]],
) -> None:
    t, acts = demo
    me = t.as_consultant(_busiest(acts, "consultant"))
    years = {y["fiscal_year"]: y["to_date"] for y in me.portfolio_data()["years"]}
    assert years[2027] is True and years[2026] is False
    assert '<th scope="row">FY2027 to date</th>' in me.portfolio_html()


def test_the_year_to_date_sits_beside_the_same_months_a_year_before(tmp_path: Path) -> None:
    from iecmhc_tracker._profile import _read

    text, _ = _read("illinois")
    # the quarter table's comparison, for a profile without a to-date table (as shipped)
    text = text.replace(
        "[[tables]]",
        '[[tables]]\nname = "hours_by_quarter"\ntitle = "Hours of consultation by quarter"\n'
        'measures = ["hours", "activities"]\nby = ["quarter", "fiscal_year"]\n'
        'where = { kind = ["consultation"] }\n\n[[tables]]',
        1,
    )
    path = tmp_path / "quarters.toml"
    path.write_text(text)
    t = it.Tracker.open("memory://", it.load_profile(path), today=lambda: TODAY)
    acts = list(it.generate_activities(t.profile, 6000, consultants=80, today=TODAY, seed=5))
    t.record_many(acts)
    trend = t.as_state().dashboard_data(YEAR)["trend"]
    compare, to_date = trend[-2], trend[-1]

    def consultation_between(start: dt.date, end: dt.date) -> float:
        return _hours(acts, lambda a: a.kind == "consultation" and start <= a.date <= end)

    # 1 December: the first quarter (July–September) is the last complete one
    assert to_date[0] == "FY2027 to date (through 30 September 2026)"
    assert to_date[1] == pytest.approx(
        consultation_between(dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    )
    assert compare[0] == "FY2026, same months (July–September)" and compare[2] == "compare"
    assert compare[1] == pytest.approx(
        consultation_between(dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    )


def test_referrals_per_100_consultation_activities(
    demo: tuple[it.Tracker, list[it.Activity]],
) -> None:
    t, acts = demo
    tiles = {x["label"]: x["value"] for x in t.as_state().dashboard_data(YEAR)["tiles"]}
    year = [a for a in acts if t.profile.fiscal_year(a.date) == YEAR]
    referrals = sum(a.referral_total for a in year)
    consultations = sum(1 for a in year if a.kind == "consultation")
    assert tiles["Referrals per 100 consultation activities"] == pytest.approx(
        referrals / consultations * 100, abs=0.05
    )


# -- funding: --fiscal-year, five years, reach -------------------------------------------------


def _store(tmp_path: Path, profile: str, years: int) -> tuple[str, list[it.Activity]]:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    today = dt.date.today()
    with it.Tracker.open(db, profile) as t:
        acts = list(
            it.generate_activities(
                t.profile, 4000, consultants=60, fiscal_years=years, today=today, seed=2
            )
        )
        t.record_many(acts)
    return db, acts


def test_funding_takes_a_fiscal_year_and_shows_five_years(tmp_path: Path) -> None:
    import json

    db, _ = _store(tmp_path, "illinois", 7)
    current = it.load_profile("illinois").fiscal_year(dt.date.today())
    out = tmp_path / "f.json"
    args = ["report", "funding", "--db", db, "--format", "json", "--out", str(out)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["years"] == list(range(current - 5, current))
    # seven years of data, FY(current-6) to the current one: five end at the year asked for
    done = CliRunner().invoke(app, [*args, "--fiscal-year", str(current - 2)])
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["years"] == list(range(current - 6, current - 1))
    done = CliRunner().invoke(app, [*args, "--fiscal-year", "1990"])
    assert done.exit_code == 2 and "1990" in done.output and "Traceback" not in done.output


def test_funding_shows_the_children_reached_where_the_profile_publishes_them() -> None:
    t = it.Tracker.open("memory://", "california", today=lambda: TODAY)
    acts = list(it.generate_activities(t.profile, 4000, consultants=60, today=TODAY, seed=4))
    t.record_many(acts)
    data = funding_data(t.profile, list(t.as_state().tables().values()), through=YEAR)
    reach = {r["label"]: r["values"][-1] for r in data["reach"]}
    expected = sum(
        a.children_benefiting or 0
        for a in acts
        if a.kind == "consultation" and t.profile.fiscal_year(a.date) == YEAR
    )
    assert reach["Children benefiting"] == expected
    # distinct programs with a consultation activity in the year, counted by hand
    programs = {
        a.program
        for a in acts
        if a.kind == "consultation" and a.program and t.profile.fiscal_year(a.date) == YEAR
    }
    assert len(programs) >= 3
    assert reach["Programs reached through intensive consultation"] == len(programs)
    assert "Programs reached: distinct programs" in data["reach_note"]


# -- a report of nobody ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "flag", "who"),
    [("portfolio", "--consultant", "nobody-x"), ("program", "--program", "no-such-program")],
)
def test_a_report_for_an_id_without_activities_says_so(
    tmp_path: Path, command: str, flag: str, who: str
) -> None:
    db, acts = _store(tmp_path, "illinois", 2)
    out = tmp_path / "r.html"
    done = CliRunner().invoke(app, ["report", command, flag, who, "--db", db, "--out", str(out)])
    assert done.exit_code == 1 and "no activities" in done.output and who in done.output
    assert not out.exists()
    someone = acts[0].consultant if command == "portfolio" else acts[0].program
    done = CliRunner().invoke(
        app, ["report", command, flag, someone, "--db", db, "--out", str(out)]
    )
    assert done.exit_code == 0 and out.exists()


# -- in Chromium -----------------------------------------------------------------------------


def _need_browser() -> None:
    if chromium() is None:
        pytest.skip(why_not())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dashboard", "funding", "portfolio", "program"])
def test_no_sideways_scrolling_from_360_px(reports: dict[str, str], name: str) -> None:
    _need_browser()
    for width in (360, 390):
        with Page(reports[name], width) as page:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{name} is {scroll} px wide at {width} px"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dashboard", "funding", "portfolio", "program"])
def test_axe_core_finds_no_serious_or_critical_violation(
    reports: dict[str, str], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _need_browser()
    source = axe_source()
    if source is None:
        pytest.skip(axe_why_not())
    for width in (390, 1280):
        with Page(reports[name], width) as page:
            found = axe_violations(page, source)
        impacts = Counter(v["impact"] for v in found)
        with capsys.disabled():
            counts = ", ".join(
                f"{i} {impacts.get(i, 0)}" for i in ("critical", "serious", "moderate", "minor")
            )
            rules = "; ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in found)
            print(f"\naxe-core {name} @ {width} px: {counts}" + (f" — {rules}" if rules else ""))
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not bad, bad


def _portfolio_36_months() -> str:
    t = it.Tracker.open("memory://", "illinois", today=lambda: TODAY)
    day = dt.date(2023, 12, 4)
    for _ in range(36):
        t.record(
            {
                "consultant": "c-long",
                "program": "p-1",
                "county": "cook",
                "kind": "consultation",
                "setting": "head_start",
                "consultation_type": "classroom",
                "date": day.isoformat(),
                "hours": "2",
            }
        )
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=4)
    data = t.as_consultant("c-long").portfolio_data()
    assert len(data["hours_by_month"]) == 36
    return t.as_consultant("c-long").portfolio_html()


def test_a_month_without_activity_is_on_the_axis_as_zero() -> None:
    t = it.Tracker.open("memory://", "illinois", today=lambda: TODAY)
    base = {
        "consultant": "c-gap",
        "program": "p-1",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
        "hours": "1.5",
    }
    t.record({**base, "date": "2025-01-10"})
    t.record({**base, "date": "2025-04-10"})
    months = t.as_consultant("c-gap").portfolio_data()["hours_by_month"]
    assert [tuple(m) for m in months] == [
        ("2025-01", 1.5),
        ("2025-02", 0),
        ("2025-03", 0),
        ("2025-04", 1.5),
    ]


_LABEL_BOXES = """[...document.querySelectorAll('svg[aria-labelledby="by-month-t"] > text')].map(
  t => { const r = t.getBoundingClientRect(); return [r.left, r.right, t.textContent]; })"""


@pytest.mark.slow
def test_the_portfolio_month_axis_stays_readable_for_36_months() -> None:
    _need_browser()
    html = _portfolio_36_months()
    for width in (390, 1280):
        with Page(html, width) as page:
            boxes = sorted(page.evaluate(_LABEL_BOXES))
        assert len(boxes) >= 4  # some months are named along the axis
        for (_, right, a), (left, _, b) in itertools.pairwise(boxes):
            assert right <= left, f"{a!r} and {b!r} collide at {width} px"
    assert "2023-12" in html and "2026-11" in html  # every month is in the data table


@pytest.mark.slow
def test_program_report_text_left_aligned_and_dates_on_one_line(
    demo: tuple[it.Tracker, list[it.Activity]],
) -> None:
    _need_browser()
    t, acts = demo
    html = t.as_program(_busiest(acts, "program")).reflection_html()
    with Page(html, 390) as page:
        aligns, date_lines = page.evaluate(
            """(() => { const rows = [...document.querySelectorAll('table.contacts tbody tr')];
            const lines = rows.map(row => { const r = document.createRange();
              r.selectNodeContents(row.cells[0]); return r.getClientRects().length; });
            return [[...rows[0].cells].map(c => getComputedStyle(c).textAlign), lines]; })()"""
        )
    assert aligns[:5] == ["left"] * 5 and aligns[6] == "left"  # every text column
    assert aligns[5] == "right"  # hours, a number
    assert set(date_lines) == {1}, "a date wraps onto a second line"
