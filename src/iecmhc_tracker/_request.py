"""A :class:`Request` for consultation: received, then assigned to a consultant or closed
without service with a reason. From these come the days to assignment and the waitlist (the
requests open on a date). It carries no name or contact of whoever asked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from ._records import (
    CODE,
    DATE,
    OPT_CODE,
    OPT_DATE,
    OPT_TEXT,
    OPT_UUID,
    UUID,
    c_county,
    c_id,
    c_program,
    c_setting,
    from_mapping,
    iso,
)

CONVERTERS = {
    "id": UUID,
    "received": DATE,
    "source": CODE,
    "county": CODE,
    "program": OPT_TEXT,
    "setting": OPT_CODE,
    "target": OPT_CODE,
    "assigned": OPT_DATE,
    "consultant": OPT_TEXT,
    "engagement": OPT_UUID,
    "not_served": OPT_DATE,
    "not_served_reason": OPT_CODE,
}
REQUIRED = ("received", "source", "county")


# named, typed converters (the attrs plugin of type checkers reads only those)
def _c_received(v: Any) -> dt.date:
    return DATE("received", v)


def _c_source(v: Any) -> str:
    return CODE("source", v)


def _c_target(v: Any) -> str | None:
    return OPT_CODE("target", v)


def _c_assigned(v: Any) -> dt.date | None:
    return OPT_DATE("assigned", v)


def _c_consultant(v: Any) -> str | None:
    return OPT_TEXT("consultant", v)


def _c_engagement(v: Any) -> uuid.UUID | None:
    return OPT_UUID("engagement", v)


def _c_not_served(v: Any) -> dt.date | None:
    return OPT_DATE("not_served", v)


def _c_not_served_reason(v: Any) -> str | None:
    return OPT_CODE("not_served_reason", v)


@attrs.frozen(slots=True)
class Request:
    """One request for consultation. ``source`` is ``helpline``, ``program``, ``family`` or
    ``other`` (or a profile's own); ``assigned`` the day a consultant (``consultant``, at
    assignment) took it, ``engagement`` the engagement it became; ``not_served`` the day it
    was closed without service, with ``not_served_reason``."""

    received: dt.date = attrs.field(converter=_c_received)
    source: str = attrs.field(converter=_c_source)
    county: str = attrs.field(converter=c_county)
    id: uuid.UUID = attrs.field(factory=uuid.uuid4, converter=c_id)
    program: str | None = attrs.field(default=None, converter=c_program)
    setting: str | None = attrs.field(default=None, converter=c_setting)
    target: str | None = attrs.field(default=None, converter=_c_target)
    assigned: dt.date | None = attrs.field(default=None, converter=_c_assigned)
    consultant: str | None = attrs.field(default=None, converter=_c_consultant)
    engagement: uuid.UUID | None = attrs.field(default=None, converter=_c_engagement)
    not_served: dt.date | None = attrs.field(default=None, converter=_c_not_served)
    not_served_reason: str | None = attrs.field(default=None, converter=_c_not_served_reason)

    @property
    def days_to_assignment(self) -> int | None:
        """Days from receipt to assignment (None while unassigned)."""
        return None if self.assigned is None else (self.assigned - self.received).days

    def open_on(self, day: dt.date) -> bool:
        """Whether the request is on the waitlist at the end of ``day``: received by then,
        and neither assigned nor closed without service by then."""
        ended = self.assigned or self.not_served
        return self.received <= day and (ended is None or ended > day)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Request:
        """Read a request from a mapping, reporting every unreadable field at once (a
        ``"type": "request"`` key is allowed: it names the record type)."""
        return from_mapping(cls, "Request", CONVERTERS, REQUIRED, data)

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in CONVERTERS}
        out.update(
            id=str(self.id),
            received=self.received.isoformat(),
            assigned=iso(self.assigned),
            not_served=iso(self.not_served),
            engagement=None if self.engagement is None else str(self.engagement),
        )
        return out

    def evolve(self, **changes: Any) -> Request:
        return attrs.evolve(self, **changes)
