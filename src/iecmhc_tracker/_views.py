"""Role-scoped views. Each holds the tracker privately and exposes only what its role may see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ._errors import Forbidden, NotFound
from ._model import Activity
from ._rows import Row, from_row, to_row

if TYPE_CHECKING:
    from ._tracker import Record, Tracker


class ConsultantView:
    """One consultant's own activities and exact numbers; nothing of anyone else's."""

    __slots__ = ("__tracker", "consultant")

    def __init__(self, tracker: Tracker, consultant: str) -> None:
        self.__tracker = tracker
        self.consultant = consultant

    def _rows(self, fiscal_year: int | None = None) -> list[Row]:
        rows = self.__tracker.store.rows(consultant=self.consultant)
        if fiscal_year is not None:
            rows = [r for r in rows if r["fiscal_year"] == fiscal_year]
        return rows

    def activities(self, fiscal_year: int | None = None) -> list[Activity]:
        """This consultant's live activities, oldest first."""
        return [from_row(r) for r in self._rows(fiscal_year)]

    def record(self, record: Record) -> Activity:
        """Record an activity as this consultant (its ``consultant`` must be this one)."""
        activity = self.__tracker.check(record)
        self._own(activity)
        return self.__tracker.record(activity)

    def amend(self, activity: Record) -> Activity:
        """Replace one of this consultant's stored activities (same id) with new content."""
        new = self.__tracker.check(activity)
        self._own(new)
        self._stored(str(new.id))
        self.__tracker.store.amend(
            str(new.id), to_row(new, self.__tracker.profile), by=self.consultant, at=_now()
        )
        return new

    def delete(self, activity_id: uuid.UUID | str) -> None:
        """Delete one of this consultant's activities (the store keeps who and when)."""
        rid = str(activity_id)
        self._stored(rid)
        self.__tracker.store.delete(rid, by=self.consultant, at=_now())

    def _own(self, activity: Activity) -> None:
        if activity.consultant != self.consultant:
            raise Forbidden(
                f"consultant {self.consultant!r} cannot record or change another consultant's "
                "activity"
            )

    def _stored(self, rid: str) -> Row:
        row = self.__tracker.store.get(rid)
        if row is None or row["deleted_at"] is not None:
            raise NotFound(f"no stored activity has id {rid}")
        if row["consultant"] != self.consultant:
            # the same answer as for a missing id: no probing for others' ids
            raise NotFound(f"no stored activity has id {rid}")
        return row

    def portfolio_data(
        self,
        fiscal_year: int | None = None,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> dict[str, Any]:
        """The numbers of this consultant's portfolio (the HTML, CSV and JSON show these)."""
        from ._reports import portfolio_data

        return portfolio_data(
            self.__tracker.profile,
            self.activities(),
            consultant=self.consultant,
            fiscal_year=fiscal_year,
            date_from=date_from,
            date_to=date_to,
        )

    def portfolio_html(
        self,
        fiscal_year: int | None = None,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> str:
        """A printable, offline HTML portfolio of this consultant's own work."""
        from ._reports import portfolio_html

        data = self.portfolio_data(fiscal_year, date_from=date_from, date_to=date_to)
        return portfolio_html(self.__tracker.profile, data)

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

    __slots__ = ("__tracker", "program")

    def __init__(self, tracker: Tracker, program: str) -> None:
        self.__tracker = tracker
        self.program = program

    def contacts(self, fiscal_year: int | None = None) -> list[dict[str, Any]]:
        """Each contact: date, consultant pseudonym, kind, hours and types of support."""
        out = []
        for r in self.__tracker.store.rows(program=self.program):
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

    def reflection_data(self, fiscal_year: int | None = None) -> dict[str, Any]:
        """The numbers of this program's reflection summary."""
        from ._reports import program_data

        return program_data(self.__tracker.profile, self.program, self.contacts(fiscal_year))

    def reflection_html(self, fiscal_year: int | None = None) -> str:
        """A printable HTML summary of this program's contacts with consultants."""
        from ._reports import program_html

        return program_html(self.__tracker.profile, self.reflection_data(fiscal_year))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
