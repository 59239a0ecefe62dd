"""Role-scoped views. Each holds its tracker's scope privately and exposes only what its role
may see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ._cache import data_digest
from ._columns import Row
from ._dosage import EngagementDosage, with_dosage
from ._engagement_quantiles import engagement_quantiles
from ._errors import ConflictError, Forbidden, NotFound, Problem, ValidationError
from ._model import Activity
from ._publish import publish, published_as_of
from ._query import Query, compile_query
from ._reports import (
    dashboard_data,
    dashboard_html,
    portfolio_data,
    portfolio_html,
    program_data,
    program_html,
)
from ._rows import from_row, to_row
from ._scope import Record, Scope
from ._table import Table


class ConsultantView:
    """One consultant's own activities and exact numbers; nothing of anyone else's."""

    __slots__ = ("__scope", "consultant")

    def __init__(self, scope: Scope, consultant: str) -> None:
        self.__scope = scope
        self.consultant = consultant

    def _rows(self, fiscal_year: int | None = None) -> list[Row]:
        rows = self.__scope.store.rows(consultant=self.consultant)
        if fiscal_year is not None:
            rows = [r for r in rows if r["fiscal_year"] == fiscal_year]
        return rows

    def activities(self, fiscal_year: int | None = None) -> list[Activity]:
        """This consultant's live activities, oldest first."""
        return [from_row(r) for r in self._rows(fiscal_year)]

    def engagements(self) -> list[EngagementDosage]:
        """Her engagements, each with its dosage from the activities linked to it."""
        store = self.__scope.store
        return with_dosage(store, store.records("engagement", consultant=self.consultant))

    def record(self, record: Record) -> Activity:
        """Record an activity as this consultant (its ``consultant`` must be this one).

        Re-recording one of this consultant's deleted activities is refused with a
        ``ConflictError`` saying when it was deleted: :meth:`restore` brings it back."""
        activity = self.__scope.check(record)
        self._own(activity)
        try:
            return self.__scope.record(activity)
        except ConflictError:
            row = self.__scope.store.get(str(activity.id))
            if row is not None and row["consultant"] != self.consultant:
                # another consultant's id: say no more than that the id is taken
                raise ConflictError(
                    f"activity {activity.id} is already stored with different content; "
                    "record it under a new id"
                ) from None
            raise

    def amend(self, activity: Record | uuid.UUID | str, **changes: Any) -> Activity:
        """Correct one of this consultant's stored activities; returns it as now stored.

        ``amend(id, hours="2", note=None)`` changes only the fields given and keeps the rest;
        ``amend({"id": id, "hours": "2"})`` is the same. ``amend(activity)`` with an
        :class:`Activity` replaces the stored one whole (same id; ``stored.evolve(hours=2)``
        makes one). Either way the result is validated as a whole, as :meth:`record` does,
        and the id cannot change. ``NotFound`` when this consultant has no live activity
        with that id (for a deleted one, the message says to :meth:`restore` it first)."""
        if isinstance(activity, Activity):
            new = self.__scope.check({**activity.to_dict(), **changes} if changes else activity)
            self._own(new)
            rid = self._stored(str(new.id))["id"]
        else:
            given = dict(activity) if isinstance(activity, Mapping) else {"id": activity}
            if "id" in changes or given.get("id") in (None, ""):
                raise ValidationError(
                    [
                        Problem(
                            "id",
                            "required" if "id" not in changes else "immutable",
                            "name the activity to amend by its id, once: amend(id, hours=…); "
                            "an activity's id never changes",
                        )
                    ]
                )
            row = self._stored(_rid(given.pop("id")))
            rid = row["id"]
            merged = {**from_row(row).to_dict(), **given, **changes}
            new = self.__scope.check(merged)
            self._own(new)
        self.__scope.store.amend(
            rid, to_row(new, self.__scope.profile), by=self.consultant, at=_now()
        )
        return new

    def delete(self, activity_id: uuid.UUID | str) -> None:
        """Delete one of this consultant's activities (the store keeps who and when;
        :meth:`restore` undoes it)."""
        rid = self._stored(_rid(activity_id))["id"]
        self.__scope.store.delete(rid, by=self.consultant, at=_now())

    def restore(self, activity_id: uuid.UUID | str) -> Activity:
        """Bring back one of this consultant's deleted activities, as it was; returns it.

        ``NotFound`` for an id this consultant never stored; ``ConflictError`` when the
        activity is not deleted."""
        rid = _rid(activity_id)
        row = self.__scope.store.get(rid)
        if row is None or row["consultant"] != self.consultant:
            raise NotFound(f"no stored activity has id {rid}")
        if row["deleted_at"] is None:
            raise ConflictError(f"activity {rid} is not deleted; there is nothing to restore")
        self.__scope.store.restore(rid, by=self.consultant, at=_now())
        return from_row(row)

    def _own(self, activity: Activity) -> None:
        if activity.consultant != self.consultant:
            raise Forbidden(
                f"consultant {self.consultant!r} cannot record or change another consultant's "
                "activity"
            )

    def _stored(self, rid: str) -> Row:
        """This consultant's live row ``rid``, else ``NotFound`` (the same answer for a
        missing id and another consultant's: no probing for others' ids)."""
        row = self.__scope.store.get(rid)
        if row is None or row["consultant"] != self.consultant:
            raise NotFound(f"no stored activity has id {rid}")
        if row["deleted_at"] is not None:
            raise NotFound(
                f"activity {rid} was deleted on {deleted_on(row)}; restore it first "
                "(ConsultantView.restore, or iecmhc restore ID)"
            )
        return row

    def portfolio_data(
        self,
        fiscal_year: int | None = None,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> dict[str, Any]:
        """The numbers of this consultant's portfolio (the HTML, CSV and JSON show these)."""
        return portfolio_data(
            self.__scope.profile,
            self.activities(),
            consultant=self.consultant,
            fiscal_year=fiscal_year,
            date_from=date_from,
            date_to=date_to,
            today=self.__scope.today(),
        )

    def portfolio_html(
        self,
        fiscal_year: int | None = None,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> str:
        """A printable, offline HTML portfolio of this consultant's own work."""
        data = self.portfolio_data(fiscal_year, date_from=date_from, date_to=date_to)
        return portfolio_html(self.__scope.profile, data)

    def summary(self, fiscal_year: int | None = None) -> dict[str, Any]:
        """Exact totals of this consultant's own data."""
        rows = self._rows(fiscal_year)
        hours_by: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        referrals: dict[str, int] = defaultdict(int)
        for r in rows:
            h = r["hours"] or 0.0
            hours_by["kind"][r["kind"]] += h
            if r["consultation_type"]:
                hours_by["consultation_type"][r["consultation_type"]] += h
            if r["setting"]:
                hours_by["setting"][r["setting"]] += h
            hours_by["month"][r["date"].strftime("%Y-%m")] += h
            hours_by["fiscal_year"][str(r["fiscal_year"])] += h
            for code, n in r["referrals"].items():
                referrals[code] += n
        return {
            "consultant": self.consultant,
            "fiscal_year": fiscal_year,
            "activities": len(rows),
            "hours": sum((r["hours"] or 0.0) for r in rows),
            "training_hours": sum((r["hours"] or 0.0) for r in rows if r["kind"] == "training"),
            "trainings": sum(1 for r in rows if r["kind"] == "training"),
            "referrals": sum(referrals.values()),
            "referrals_by_resource_type": dict(sorted(referrals.items())),
            "hours_by": {k: dict(sorted(v.items())) for k, v in hours_by.items()},
        }


class ProgramView:
    """The record of one program's contacts with consultants (no notes, no other programs)."""

    __slots__ = ("__scope", "program")

    def __init__(self, scope: Scope, program: str) -> None:
        self.__scope = scope
        self.program = program

    def contacts(self, fiscal_year: int | None = None) -> list[dict[str, Any]]:
        """Each contact: date, consultant pseudonym, kind, hours and types of support."""
        out = []
        for r in self.__scope.store.rows(program=self.program):
            if fiscal_year is not None and r["fiscal_year"] != fiscal_year:
                continue
            out.append(
                {
                    "date": r["date"],
                    "consultant": r["consultant"],
                    "kind": r["kind"],
                    "setting": r["setting"],
                    "consultation_type": r["consultation_type"],
                    "modality": r["modality"],
                    "hours": r["hours"],
                    "methods": [m for m in (r["methods"] or "").split(",") if m],
                }
            )
        return out

    def engagements(self) -> list[EngagementDosage]:
        """The engagements at this program's sites, each with its dosage."""
        store = self.__scope.store
        return with_dosage(store, store.records("engagement", program=self.program))

    def reflection_data(self, fiscal_year: int | None = None) -> dict[str, Any]:
        """The numbers of this program's reflection summary."""
        return program_data(self.__scope.profile, self.program, self.contacts(fiscal_year))

    def reflection_html(self, fiscal_year: int | None = None) -> str:
        """A printable HTML summary of this program's contacts with consultants."""
        return program_html(self.__scope.profile, self.reflection_data(fiscal_year))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _rid(activity_id: Any) -> str:
    """An id as the store keys it (the canonical UUID text), whatever form it came in."""
    try:
        return str(uuid.UUID(str(activity_id)))
    except ValueError:
        return str(activity_id)  # no activity has it: NotFound names it as given


def deleted_on(row: Row) -> str:
    """When a deleted row was deleted, for messages: ``2026-11-30 14:05 UTC``."""
    at = row["deleted_at"]
    return at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(at, dt.datetime) else str(at)


class StateView:
    """What state staff see: the profile's published tables, suppressed. No method returns
    rows, consultant ids or program ids, and only the profile's fixed tables can be asked
    for (so nobody can difference arbitrary filters)."""

    __slots__ = ("__cache", "__scope")

    def __init__(self, scope: Scope) -> None:
        self.__scope = scope
        self.__cache: tuple[tuple[int, dt.date], dict[str, Table]] | None = None

    @property
    def profile_label(self) -> str:
        return self.__scope.profile.label

    def published(self) -> list[dict[str, Any]]:
        """The tables this profile publishes: name, title, measures and dimensions."""
        return [
            {"name": s.name, "title": s.title, "measures": list(s.measures), "by": list(s.by)}
            for s in self.__scope.profile.tables
        ]

    def engagement_quantiles(
        self, fiscal_year: int, by: str = "region"
    ) -> dict[str, dict[str, Any]]:
        """Median and 90th-percentile dosage and days to assignment per region (or county),
        each shown only where its cell passes the suppression rules."""
        scope = self.__scope
        return engagement_quantiles(scope.store, scope.profile, fiscal_year, by)

    def tables(self, fiscal_year: int | None = None) -> dict[str, Table]:
        """Every published table by name (sliced to one fiscal year when given)."""
        every = self.__all()
        if fiscal_year is None:
            return dict(every)
        return {
            n: (t.select(fiscal_year=fiscal_year) if "fiscal_year" in t.dims else t)
            for n, t in every.items()
        }

    def table(self, query_or_name: Query | str, *, fiscal_year: int | None = None) -> Table:
        """One published table, by name or by a :class:`Query` equal to a published table
        (the same where and dimensions, some or all of its measures; ``where`` may also fix
        one fiscal year, giving that year's slice). Anything else raises ``Forbidden``."""
        if isinstance(query_or_name, Query):
            name, measures, year = self.__match(query_or_name)
        else:
            name, measures, year = str(query_or_name), None, None
            if name not in {s.name for s in self.__scope.profile.tables}:
                raise Forbidden(f"{name!r} is not a published table. {self.__menu()}")
        if fiscal_year is not None:
            year = fiscal_year
        table = self.__all()[name]
        if measures is not None:
            table = table.only(measures)
        if year is not None:
            if "fiscal_year" not in table.dims:
                raise Forbidden(f"table {name!r} is not by fiscal year; ask for it whole")
            if year not in table.fiscal_years:
                span = f"{table.fiscal_years[0]}–{table.fiscal_years[-1]}"
                raise ValidationError(
                    [Problem("fiscal_year", "unknown_year", f"{year} is not in {span}")]
                )
            table = table.select(fiscal_year=year)
        return table

    def dashboard_data(self, fiscal_year: int) -> dict[str, Any]:
        """Headline totals and tables of one fiscal year for the dashboard (withheld values
        are ``None``)."""
        scope = self.__scope
        tables = list(self.__all().values())

        def earlier(day: dt.date, name: str) -> tuple[dt.date, Table] | None:
            return published_as_of(scope, day, name)

        return dashboard_data(scope.profile, tables, fiscal_year, scope.today(), earlier)

    def dashboard_html(self, fiscal_year: int) -> str:
        """The state dashboard of one fiscal year as a self-contained HTML page."""
        return dashboard_html(self.__scope.profile, self.dashboard_data(fiscal_year))

    def __all(self) -> dict[str, Table]:
        scope = self.__scope
        version = scope.store.data_version()
        # a to-date table moves with the calendar: a new day may be a new month
        key = (version, scope.today())
        if self.__cache is None or self.__cache[0] != key:
            self.__cache = (key, publish(scope, data_digest(scope.store.url, version)))
        return self.__cache[1]

    def __match(self, query: Query) -> tuple[str, tuple[str, ...], int | None]:
        profile = self.__scope.profile
        compile_query(query, profile)  # Forbidden for id-like fields, ValidationError else
        where = {k: _norm(v) for k, v in query.where.items()}
        year = where.pop("fiscal_year", None)
        if year is not None and len(year) != 1:
            raise Forbidden("a state table can be sliced to one fiscal year, not several")
        implied = _implied_kinds(profile, query.by) if "kind" not in where else ()
        for spec in profile.tables:
            if not set(query.measures) <= set(spec.measures):
                continue
            have = {k: _norm(v) for k, v in spec.where.items()}
            # grouped by a field only some kinds record (consultation type): the table of
            # those kinds answers it
            if have != where and not (implied and have == {**where, "kind": implied}):
                continue
            by = set(query.by)
            if year is None and by == set(spec.by):
                return spec.name, tuple(query.measures), None
            # one year's slice: by the table's dimensions, with or without fiscal_year
            if (
                year is not None
                and "fiscal_year" in spec.by
                and by | {"fiscal_year"} == set(spec.by)
            ):
                return spec.name, tuple(query.measures), int(year[0])
        raise Forbidden(f"this query is not one of the published tables. {self.__menu()}")

    def __menu(self) -> str:
        tables = "; ".join(
            f"{s.name} ({', '.join(s.measures)} by {' × '.join(s.by) or 'nothing'})"
            for s in self.__scope.profile.tables
        )
        return f"The {self.__scope.profile.label} profile publishes: {tables}"


def _implied_kinds(profile: Any, by: Any) -> tuple[str, ...]:
    """The kinds that require a field of ``by`` that not every kind requires (sorted)."""
    kinds = profile.kinds
    every = set.intersection(*(set(k.required) for k in kinds.values())) if kinds else set()
    specific = set(by) - every
    return tuple(sorted(c for c, k in kinds.items() if specific & set(k.required)))


def _norm(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | int | bool):
        value = [value]
    return tuple(sorted(str(v) for v in value))
