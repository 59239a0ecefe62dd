"""What a role view or a researcher session may use of the tracker that opened it.

The tracker hands each view a :class:`Scope` rather than itself, so the views depend on the
store, the profile and two write functions, never on :class:`Tracker` (which imports them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import attrs

from ._model import Activity
from ._profile import Profile
from .stores import Store


def no_lock(key: str) -> AbstractContextManager[None]:
    """A lock that holds nothing (a scope without a release cache)."""
    return contextlib.nullcontext()


#: what ``record`` and ``check`` take: an Activity, or a mapping ``Activity.from_dict`` reads
Record = Activity | Mapping[str, Any]


@attrs.frozen(slots=True)
class Scope:
    """The store and profile of one tracker, its clock, and its validating writes."""

    store: Store
    profile: Profile
    #: today's date as the tracker sees it (tests pin it)
    today: Callable[[], dt.date]
    #: validate without storing: the Activity, or ``ValidationError`` with every problem
    check: Callable[[Record], Activity]
    #: validate and store one activity
    record: Callable[[Record], Activity]
    #: a named lock held across processes sharing the release cache (check, charge, record)
    lock: Callable[[str], AbstractContextManager[None]] = no_lock
