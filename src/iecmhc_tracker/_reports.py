"""HTML reports (jinja2, autoescaped, offline, printable) and CSV/JSON exports of the same numbers.

Each report is two steps: a ``*_data`` function that computes exactly the numbers the report
shows (plain dicts and lists), and ``render`` that turns them into HTML. Exports serialise the
same data, so a CSV never says more or less than the page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import jinja2

from ._engagement_report import outcome_rows, outcomes
from ._figures import (
    Earlier,
    fiscal_year_trend,
    headline_label,
    in_profile_order,
    is_to_date,
    rate_sources,
    referral_rate,
    year_rate,
    year_total,
)
from ._measures import FACT_KIND_OF, MEASURES
from ._model import Activity
from ._profile import Profile
from ._table import Table, dp_note
from ._version import __version__

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("iecmhc_tracker", "templates"),
    autoescape=True,  # every value is escaped: notes and labels may hold anything
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def format_number(value: Any) -> str:
    """Numbers as the reports print them: thousands separated, at most two decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        f = float(value)
        return f"{f:,.0f}" if f.is_integer() else f"{f:,.2f}"
    return str(value)


_ENV.filters["num"] = format_number


def render(template: str, *, title: str, subtitle: str, profile: Profile, data: Any) -> str:
    """Render one of the shipped templates with the common page frame."""

    return _ENV.get_template(template).render(
        title=title,
        subtitle=subtitle,
        profile_label=profile.label,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        data=data,
    )


# -- consultant portfolio --------------------------------------------------------------------


def portfolio_data(
    profile: Profile,
    activities: Iterable[Activity],
    *,
    consultant: str,
    fiscal_year: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The numbers of one consultant's portfolio (their own activities only); the fiscal
    year of ``today`` is marked as a year to date."""
    every = list(activities)
    for a in every:
        if a.consultant != consultant:
            raise ValueError("a portfolio holds one consultant's own activities only")

    def in_period(a: Activity) -> bool:
        if fiscal_year is not None and profile.fiscal_year(a.date) != fiscal_year:
            return False
        if date_from is not None and a.date < date_from:
            return False
        return date_to is None or a.date <= date_to

    acts = [a for a in every if in_period(a)]
    by_type: dict[str, float] = defaultdict(float)
    by_setting: dict[str, float] = defaultdict(float)
    by_month: dict[str, float] = defaultdict(float)
    methods: Counter[str] = Counter()
    referrals: Counter[str] = Counter()
    for a in acts:
        h = float(a.hours or 0)
        if a.consultation_type:
            by_type[a.consultation_type] += h
        if a.setting:
            by_setting[a.setting] += h
        by_month[a.date.strftime("%Y-%m")] += h
        methods.update(a.methods)
        for code, n in a.referrals:
            referrals[code] += n
    years: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"activities": 0, "hours": 0.0, "training_hours": 0.0, "referrals": 0}
    )
    for a in every:  # year over year: every year of the consultant's own record
        y = years[profile.fiscal_year(a.date)]
        y["activities"] += 1
        y["hours"] += float(a.hours or 0)
        y["training_hours"] += float(a.hours or 0) if a.kind == "training" else 0.0
        y["referrals"] += a.referral_total
    current = profile.fiscal_year(today or dt.date.today())
    return {
        "consultant": consultant,
        "fiscal_year": fiscal_year,
        "activities": len(acts),
        "hours": sum(float(a.hours or 0) for a in acts),
        "training_hours": sum(float(a.hours or 0) for a in acts if a.kind == "training"),
        "trainings": sum(1 for a in acts if a.kind == "training"),
        "referrals": sum(referrals.values()),
        "referral_rate": referral_rate(
            sum(referrals.values()), sum(1 for a in acts if a.kind == "consultation")
        ),
        "hours_by_type": _labelled(profile, "consultation_type", by_type),
        "hours_by_setting": _labelled(profile, "setting", by_setting),
        "hours_by_month": _every_month(by_month),
        "methods": _labelled(profile, "methods", methods),
        "referrals_by_type": _labelled(profile, "resource_type", referrals),
        "years": [
            {"fiscal_year": y, "to_date": y == current, **v} for y, v in sorted(years.items())
        ],
    }


def _every_month(by_month: Mapping[str, float]) -> list[tuple[str, float]]:
    """Month by month from the first to the last, a month without activity as 0: a time axis
    that skipped it would read as no gap at all."""
    if not by_month:
        return []
    first, last = min(by_month), max(by_month)
    year, month = int(first[:4]), int(first[5:])
    out: list[tuple[str, float]] = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        out.append((key, by_month.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _labelled(profile: Profile, field: str, counts: Mapping[str, float]) -> list[list[Any]]:
    return [
        [profile.code_label(field, code), round(v, 2)]
        for code, v in sorted(counts.items(), key=lambda kv: -kv[1])
    ]


def portfolio_html(profile: Profile, data: Mapping[str, Any]) -> str:
    period = f"fiscal year {data['fiscal_year']}" if data["fiscal_year"] else "all recorded time"
    return render(
        "portfolio.html",
        title=f"Consultant portfolio — {data['consultant']}",
        subtitle=f"{profile.label} · {period}",
        profile=profile,
        data=data,
    )


# -- program reflection ----------------------------------------------------------------------


def program_data(
    profile: Profile, program: str, contacts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The numbers of one program's reflection summary."""
    by_month: Counter[str] = Counter()
    by_type: dict[str, float] = defaultdict(float)
    rows = []
    for c in contacts:
        by_month[c["date"].strftime("%Y-%m")] += 1
        key = c["consultation_type"] or c["kind"]
        field = "consultation_type" if c["consultation_type"] else "kind"
        by_type[profile.code_label(field, key)] += float(c["hours"] or 0)
        rows.append(
            {
                "date": c["date"].isoformat(),
                "consultant": c["consultant"],
                "kind": profile.code_label("kind", c["kind"]),
                "consultation_type": (
                    profile.code_label("consultation_type", c["consultation_type"])
                    if c["consultation_type"]
                    else None
                ),
                "modality": (
                    profile.code_label("modality", c["modality"]) if c["modality"] else None
                ),
                "hours": c["hours"],
                "methods": [profile.code_label("methods", m) for m in c["methods"]],
            }
        )
    return {
        "program": program,
        "contacts": rows,
        "hours": sum(float(c["hours"] or 0) for c in contacts),
        "consultants": len({c["consultant"] for c in contacts}),
        "by_month": _every_month(by_month),
        "by_type": [[k, round(v, 2)] for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])],
    }


def program_html(profile: Profile, data: Mapping[str, Any]) -> str:
    return render(
        "program.html",
        title=f"Program reflection summary — {data['program']}",
        subtitle=f"{profile.label} · contacts with consultants",
        profile=profile,
        data=data,
    )


# -- exports -----------------------------------------------------------------------------------


def to_json(data: Mapping[str, Any]) -> str:
    """The report's numbers as JSON."""
    return json.dumps(data, indent=2, default=str, sort_keys=True)


def to_csv(data: Mapping[str, Any]) -> str:
    """The report's numbers as long-form CSV: section, label, value (one line per number)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "label", "value"])
    for section, label, value in _flatten(data):
        writer.writerow([section, label, "" if value is None else value])
    return out.getvalue()


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str, Any]]:
    for key, value in data.items():
        section = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{section}.")
        elif isinstance(value, list) and value and isinstance(value[0], list | tuple):
            for item in value:
                yield section, str(item[0]), item[1] if len(item) > 1 else None
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for i, item in enumerate(value):
                yield from _flatten(item, f"{section}[{i}].")
        elif isinstance(value, list):
            yield section, "", ";".join(str(v) for v in value)
        else:
            yield section, "", value


# -- state dashboard and funding summary -------------------------------------------------------

#: the most bars a dashboard chart draws (longer tables are shown as tables only)
_CHART_ROWS = 24
_TIER_ORDER = {"universal": 0, "targeted": 1, "intensive": 2}


def _suppression_note(profile: Profile) -> str:
    p = profile.suppression
    return (
        "Withheld cells protect privacy: a number is withheld when fewer than "
        f"{p.min_consultants} consultants or fewer than {p.min_count} activities make it up "
        f"(zero is shown), or when one consultant accounts for more than {p.dominance:.0%} of "
        "it; further cells are withheld where totals would otherwise let a withheld number be "
        "worked out. Totals include withheld cells."
    )


def _headlines(tables: Sequence[Table]) -> dict[str, list[str]]:
    """Per table, the measures it is the first to publish for its activities (its ``where``):
    tables that count the same activities share their totals, which are shown once."""
    seen: set[tuple[str, str]] = set()
    out: dict[str, list[str]] = {}
    for table in tables:
        for m in table.measures:
            if m in FACT_KIND_OF and m not in _FACT_HEADLINES:
                continue  # the outcomes block shows them, as shares and means
            key = (m, repr(sorted(table.where.items())))
            if key not in seen:
                seen.add(key)
                out.setdefault(table.name, []).append(m)
    return out


def dashboard_data(
    profile: Profile,
    tables: Sequence[Table],
    fiscal_year: int,
    today: dt.date | None = None,
    earlier: Earlier | None = None,
) -> dict[str, Any]:
    """The numbers of the state dashboard for one fiscal year (suppressed tables only).
    ``today`` marks the current fiscal year as a year to date in the trend; ``earlier``
    gives a table as an earlier release published it (the year before, to date)."""
    every = in_profile_order(profile, tables)
    # a to-date table is drawn in the trend only (it holds two partial years)
    tables = [t for t in every if not is_to_date(t)]
    tiles: list[dict[str, Any]] = []
    headlines = _headlines(tables)
    tiers: dict[str | None, list[dict[str, Any]]] = {}
    for table in tables:
        has_year = "fiscal_year" in table.dims
        part = table.select(fiscal_year=fiscal_year) if has_year else table
        for m in headlines.get(table.name, ()):
            total = part.total
            tiles.append(
                {
                    "label": headline_label(profile, table, m),
                    "value": total.values[m] if total is not None else None,
                }
            )
        rows = [
            {"label": " · ".join(c.labels) or "All", "values": [c.values[m] for m in part.measures]}
            for c in part.cells
        ]
        total = part.total
        first = part.measures[0]
        block = {
            "id": table.name,
            "title": table.title,
            "dim_label": " · ".join(d.replace("_", " ").capitalize() for d in part.dims) or "",
            "measure_labels": [MEASURES[m].label for m in part.measures],
            "rows": rows,
            "total": (
                {"label": "Total", "values": [total.values[m] for m in part.measures]}
                if total is not None and part.dims
                else None
            ),
            # past a couple of dozen bars a chart is no longer read: the table says it all
            "chart": (
                [[r["label"], r["values"][0]] for r in rows]
                if part.dims and len(rows) <= _CHART_ROWS
                else []
            ),
            "chart_measure": MEASURES[first].label,
        }
        tier = _tier_of(profile, table)
        tiers.setdefault(tier, []).append(block)
    if rate_sources(tables) is not None:
        tiles.append(
            {
                "label": "Referrals per 100 consultation activities",
                "value": year_rate(tables, fiscal_year),
            }
        )
    trend_title, trend, trend_note = fiscal_year_trend(profile, every, today, earlier)
    ordered = sorted(tiers.items(), key=lambda kv: _TIER_ORDER.get((kv[0] or "").lower(), 9))
    return {
        "profile": profile.label,
        "fiscal_year": fiscal_year,
        "tiles": tiles,
        "trend": trend,
        "trend_title": trend_title,
        "trend_note": trend_note,
        # the to-date bars carry noise: their 95 % half-widths get a column of their own
        "trend_margins": any(len(item) > 3 and item[3] is not None for item in trend),
        "tiers": [
            {"name": profile.code_label("tier", t) if t else None, "tables": b} for t, b in ordered
        ],
        "footnote": _footnote(profile, tables),
        "outcomes": outcomes(tables, fiscal_year),
    }


def _footnote(profile: Profile, tables: Sequence[Table]) -> str:
    """The suppression note, and what a reader must know of each DP table."""
    notes = [f"{t.title}: {dp_note(t)}" for t in tables if t.mode == "dp"]
    if all(t.mode == "dp" for t in tables) and tables:
        return " ".join(notes)
    return " ".join([_suppression_note(profile), *notes])


def _tier_of(profile: Profile, table: Table) -> str | None:
    for spec in profile.tables:
        if spec.name == table.name:
            return spec.tier
    return None


def dashboard_html(profile: Profile, data: Mapping[str, Any]) -> str:
    return render(
        "dashboard.html",
        title=f"{profile.label} IECMHC — state dashboard",
        subtitle=f"Statewide numbers, fiscal year {data['fiscal_year']}",
        profile=profile,
        data=data,
    )


#: measures that count who was reached rather than what was delivered
_REACH = (
    "children_benefiting",
    "children_engaged",
    "families",
    "staff_influenced",
    "participants",
    "programs",
)
#: the engagement measures shown among the headline totals (the rest: the outcomes block)
_FACT_HEADLINES = ("engagements", "children_engaged")
#: the most fiscal years the funding page shows
FUNDING_YEARS = 5


def funding_data(
    profile: Profile, tables: Sequence[Table], through: int | None = None
) -> dict[str, Any]:
    """Statewide totals per fiscal year, up to five years to ``through`` (the last complete
    year), with the change over the latest year and who was reached. Years before any
    activity are left out. Every number comes from the published (protected) tables."""
    tables = [t for t in in_profile_order(profile, tables) if not is_to_date(t)]
    years: list[int] = sorted(
        {y for t in tables for y in t.fiscal_years if through is None or y <= through}
    )
    rows: list[dict[str, Any]] = []
    headlines = _headlines([t for t in tables if "fiscal_year" in t.dims])
    for table in tables:
        for m in headlines.get(table.name, ()):
            rows.append(
                {
                    "label": headline_label(profile, table, m),
                    "values": [year_total(table, m, y) for y in years],
                    "reach": m in _REACH,
                }
            )
    if rate_sources(tables) is not None and years:
        rows.append(
            {
                "label": "Referrals per 100 consultation activities",
                "values": [year_rate(tables, y) for y in years],
                "reach": False,
            }
        )
    while len(years) > 1 and all(not r["values"][0] for r in rows):
        years.pop(0)  # before any activity: nothing to show
        for r in rows:
            r["values"].pop(0)
    drop = max(0, len(years) - FUNDING_YEARS)
    years = years[drop:]
    for r in rows:
        r["values"] = r["values"][drop:]
        values = r["values"]
        last, prev = (values[-1], values[-2]) if len(values) >= 2 else (None, None)
        r["change"] = round((last - prev) / prev * 100, 1) if last is not None and prev else None
    latest = years[-1] if years else None
    reached = [r for r in rows if r["reach"]]
    return {
        "profile": profile.label,
        "years": years,
        "rows": [r for r in rows if not r["reach"]],
        "reach": reached,
        "reach_note": _reach_note(profile, reached),
        "outcomes": outcome_rows(tables, years),
        "summary": (
            f"Infant and Early Childhood Mental Health Consultation in {profile.label}: "
            f"statewide totals for fiscal years {years[0]}–{latest}, with the change from the "
            "year before the latest. Every number is a suppressed"
            + (" or noisy" if any(t.mode == "dp" for t in tables) else "")
            + " statewide aggregate."
            if years
            else "No published numbers yet."
        ),
        "footnote": _footnote(profile, tables),
    }


def _reach_note(profile: Profile, reached: Sequence[Mapping[str, Any]]) -> str:
    """What the reach rows leave out: children, or programs, when no table publishes them."""
    shown = {r["label"] for r in reached}
    notes = []
    if not shown & {MEASURES[m].label for m in ("children_benefiting", "children_engaged")}:
        notes.append(f"The {profile.label} profile publishes no count of children reached.")
    if any(label.startswith(MEASURES["programs"].label) for label in shown):
        notes.append(
            "Programs reached: distinct programs with at least one activity in the year, "
            "statewide only."
        )
    else:
        notes.append(f"The {profile.label} profile publishes no count of programs reached.")
    return " ".join(notes)


def funding_html(profile: Profile, data: Mapping[str, Any]) -> str:
    return render(
        "funding.html",
        title=f"{profile.label} IECMHC — funding justification summary",
        subtitle="Statewide totals and year-over-year change",
        profile=profile,
        data=data,
    )
