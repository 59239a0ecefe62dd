"""iecmhc_tracker: track Infant and Early Childhood Mental Health Consultation activity and
publish privacy-safe statewide numbers.

Consultants see their own exact data; the state sees suppressed aggregates only; researchers
query through differential privacy with a persisted budget.
"""

from ._audit import AuditReport, CellAudit
from ._dosage import Dosage, EngagementDosage
from ._engagement import Engagement
from ._errors import (
    BudgetExceeded,
    ConflictError,
    Forbidden,
    NotFound,
    NotInitialised,
    PrivacyError,
    Problem,
    ProfileError,
    ProfileMismatch,
    SchemaVersionError,
    StorageError,
    TrackerError,
    ValidationError,
)
from ._measures import MEASURES, Measure
from ._model import COUNT_FIELDS, Activity
from ._outbox import Outbox
from ._profile import Profile, load_profile
from ._query import Query
from ._release import Estimate, Release
from ._request import Request
from ._researcher import Budget, ResearcherSession
from ._steward import audit_suppression
from ._synthetic import generate as generate_activities
from ._synthetic_engagements import EngagementData, generate_engagements
from ._table import Table, TableCell
from ._tracker import ImportResult, Tracker
from ._validate import validate
from ._version import __version__
from ._views import ConsultantView, ProgramView, StateView
from .stores import Store

__all__ = [
    "COUNT_FIELDS",
    "MEASURES",
    "Activity",
    "AuditReport",
    "Budget",
    "BudgetExceeded",
    "CellAudit",
    "ConflictError",
    "ConsultantView",
    "Dosage",
    "Engagement",
    "EngagementData",
    "EngagementDosage",
    "Estimate",
    "Forbidden",
    "ImportResult",
    "Measure",
    "NotFound",
    "NotInitialised",
    "Outbox",
    "PrivacyError",
    "Problem",
    "Profile",
    "ProfileError",
    "ProfileMismatch",
    "ProgramView",
    "Query",
    "Release",
    "Request",
    "ResearcherSession",
    "SchemaVersionError",
    "StateView",
    "StorageError",
    "Store",
    "Table",
    "TableCell",
    "Tracker",
    "TrackerError",
    "ValidationError",
    "__version__",
    "audit_suppression",
    "generate_activities",
    "generate_engagements",
    "load_profile",
    "validate",
]
