"""Shared fixtures and hypothesis settings.

HYPOTHESIS_PROFILE=thorough runs the property tests with many more examples; the default keeps
the whole suite inside CI's time.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import HealthCheck, settings

import iecmhc_tracker as it

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TODAY = dt.date(2026, 11, 1)


@pytest.fixture(scope="session")
def illinois() -> it.Profile:
    return it.load_profile("illinois")


@pytest.fixture(params=["illinois", "california", "montana"], scope="session")
def any_profile(request: pytest.FixtureRequest) -> it.Profile:
    return it.load_profile(request.param)


@pytest.fixture()
def memory_tracker(illinois: it.Profile) -> it.Tracker:
    return it.Tracker.open("memory://", illinois, today=lambda: TODAY)
