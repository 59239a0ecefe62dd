"""The FastAPI app: one route per role-scoped operation, every route checking the role first.

The library does the enforcing (a consultant's view only ever reads that consultant's rows;
the state view only returns suppressed aggregates); the routes choose the view from the token,
never from the request body or path.
"""

import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any

import attrs
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

import iecmhc_tracker as it

from .auth import Principal, TokenTable

MAX_IMPORT_ROWS = 10_000


# -- request and response bodies ---------------------------------------------------------------
class ActivityIn(BaseModel):
    """One activity, as ``Activity.from_dict`` takes it. A consultant token may leave out
    ``consultant`` (it is filled in) but may not name another consultant."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    consultant: str | None = None
    program: str | None = None
    # dates, counts and hours given as text are read by the library, as every entry point
    # reads them (ASCII digits only, no stray white space), not by pydantic's own rules
    date: str = Field(json_schema_extra={"format": "date"}, description="YYYY-MM-DD")
    county: str
    kind: str
    setting: str | None = None
    consultation_type: str | None = None
    tier: str | None = None
    modality: str | None = None
    format: str | None = None
    methods: list[str] = Field(default_factory=list)
    competencies: list[str] = Field(default_factory=list)
    hours: Decimal | str | None = Field(
        default=None, description="quarter hours, more than 0, ≤ 24"
    )
    minutes: int | str | None = None
    children_benefiting: int | str | None = None
    staff_influenced: int | str | None = None
    families: int | str | None = None
    participants: int | str | None = None
    rated_worthwhile: int | str | None = None
    referrals: dict[str, int | str] = Field(default_factory=dict)
    recommended_consultation: bool | None = None
    language: str | None = None
    note: str | None = Field(default=None, description="seen only by its author; no personal data")
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class ActivityPatch(BaseModel):
    """The fields of one activity to change; fields left out keep their stored values, and
    ``null`` clears an optional one. The result is checked as a whole, as ``POST /activities``
    checks a new one. Neither the id nor the consultant can change."""

    model_config = ConfigDict(extra="forbid")

    program: str | None = None
    date: str | None = Field(
        default=None, json_schema_extra={"format": "date"}, description="YYYY-MM-DD"
    )
    county: str | None = None
    kind: str | None = None
    setting: str | None = None
    consultation_type: str | None = None
    tier: str | None = None
    modality: str | None = None
    format: str | None = None
    methods: list[str] | None = None
    competencies: list[str] | None = None
    hours: Decimal | str | None = Field(
        default=None, description="quarter hours, more than 0, ≤ 24"
    )
    minutes: int | str | None = None
    children_benefiting: int | str | None = None
    staff_influenced: int | str | None = None
    families: int | str | None = None
    participants: int | str | None = None
    rated_worthwhile: int | str | None = None
    referrals: dict[str, int | str] | None = None
    recommended_consultation: bool | None = None
    language: str | None = None
    note: str | None = Field(default=None, description="seen only by its author; no personal data")
    extra: dict[str, str | int | float | bool | None] | None = None


class ImportIn(BaseModel):
    """Rows to import; each is checked like ``POST /activities`` and reported by row number."""

    model_config = ConfigDict(extra="forbid")

    activities: list[dict[str, Any]] = Field(max_length=MAX_IMPORT_ROWS)


class ProblemOut(BaseModel):
    field: str
    code: str
    message: str
    row: int | None = None


class ImportOut(BaseModel):
    inserted: int
    duplicates: int
    total: int
    ok: bool
    rejected: list[ProblemOut]


class ErrorOut(BaseModel):
    error: str
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)


class ReleaseIn(BaseModel):
    """A differentially private release: measures, dimensions and filters, and its cost."""

    model_config = ConfigDict(extra="forbid")

    measures: list[str] = Field(min_length=1, max_length=8)
    by: list[str] = Field(default_factory=list, max_length=4)
    where: dict[str, str | int | list[str | int]] = Field(default_factory=dict)
    # ranges and the either-or rule are the library's to check (its ValidationError is a 422)
    epsilon: float | None = Field(default=None, description="pure ε (Laplace)")
    rho: float | None = Field(default=None, description="ρ-zCDP (Gaussian)")


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not JSON"},
    401: {"model": ErrorOut, "description": "missing or unknown bearer token"},
    403: {"model": ErrorOut, "description": "the token's role may not do this"},
    422: {"model": ErrorOut, "description": "invalid input; every problem is listed"},
}


# -- error mapping -------------------------------------------------------------------------------
def _problems(exc: it.ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": p.field, "code": p.code, "message": p.message, "row": p.row} for p in exc.problems
    ]


def _error(
    status: int, kind: str, message: str, problems: list[dict[str, Any]] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"error": kind, "message": message, "problems": problems or []}
    return JSONResponse(_utf8(body), status_code=status, headers=headers)


def _utf8(value: Any) -> Any:
    """Error bodies may echo input: a lone surrogate in it must not break UTF-8 encoding."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utf8(v) for v in value]
    return value


class Unauthorized(Exception):
    """No bearer token, or one the token file does not list."""


#: library errors -> (HTTP status, error kind); the first matching class wins
STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (it.ValidationError, 422, "validation"),
    (it.BudgetExceeded, 429, "budget_exceeded"),
    (it.Forbidden, 403, "forbidden"),
    (it.NotFound, 404, "not_found"),
    (it.ConflictError, 409, "conflict"),
    (it.PrivacyError, 403, "privacy"),
    (it.ProfileError, 500, "profile"),
    (it.StorageError, 503, "storage"),
)


def _install_handlers(app: FastAPI) -> None:
    async def tracker_error(request: Request, exc: Exception) -> JSONResponse:
        for cls, status, kind in STATUS:
            if isinstance(exc, cls):
                probs = _problems(exc) if isinstance(exc, it.ValidationError) else None
                return _error(status, kind, str(exc), probs)
        return _error(500, "error", str(exc))  # pragma: no cover - STATUS covers TrackerError

    async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        probs = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
            probs.append(
                {
                    "field": ".".join(loc) or "body",
                    "code": str(e.get("type", "invalid")),
                    "message": str(e.get("msg", "is invalid")),
                    "row": None,
                }
            )
        return _error(422, "validation", f"{len(probs)} problem(s) in the request", probs)

    async def unauthorized(request: Request, exc: Exception) -> JSONResponse:
        return _error(401, "unauthorized", str(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own errors (an unreadable body, an unknown path) in the same shape
        assert isinstance(exc, StarletteHTTPException)
        kind = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        response = _error(exc.status_code, kind.get(exc.status_code, "http"), str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on 405
        if exc.status_code == 405:
            # Starlette names only the first route of the path; PATCH and DELETE of one
            # activity are two routes, and Allow must list every method of the resource
            path = request.url.path
            methods = {
                m
                for r in request.app.routes
                if isinstance(r, Route) and r.methods and r.path_regex.match(path)
                for m in r.methods
            }
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    app.add_exception_handler(it.TrackerError, tracker_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(Unauthorized, unauthorized)
    app.add_exception_handler(StarletteHTTPException, http_error)


# -- the app -----------------------------------------------------------------------------------
def create_app(tracker: it.Tracker, tokens: Mapping[str, Principal] | TokenTable) -> FastAPI:
    """A FastAPI app serving ``tracker`` to the holders of ``tokens``.

    ``tokens`` maps bearer tokens to :class:`Principal` (or is a table from ``load_tokens``).
    """
    table = TokenTable.of(tokens)
    app = FastAPI(
        title="iecmhc-tracker",
        version=it.__version__,
        description=(
            "Role-scoped access to IECMHC activity: consultants see their own rows, programs "
            "their own contacts, the state suppressed statewide tables, analysts differentially "
            "private releases."
        ),
    )
    _install_handlers(app)
    bearer = HTTPBearer(auto_error=False)

    def principal(
        cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if cred is None or cred.scheme.lower() != "bearer":
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        found = table.find(cred.credentials)
        if found is None:
            raise Unauthorized("unknown token")
        return found

    def role(*allowed: str) -> Callable[..., Principal]:
        def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
            if who.role not in allowed:
                raise it.Forbidden(
                    f"a {who.role} token may not use this endpoint; it is for: {', '.join(allowed)}"
                )
            return who

        return check

    Consultant = Annotated[Principal, Depends(role("consultant"))]
    Program = Annotated[Principal, Depends(role("program"))]
    State = Annotated[Principal, Depends(role("state"))]
    Analyst = Annotated[Principal, Depends(role("analyst"))]
    FiscalYear = Annotated[int | None, Query(ge=1900, le=2200)]

    def own(who: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
        data = dict(record)
        if data.get("consultant") is None:
            data["consultant"] = who.id
        return data

    @app.post(
        "/activities",
        status_code=201,
        responses={**ERRORS, 409: {"model": ErrorOut}},
        tags=["consultant"],
    )
    def record_activity(body: ActivityIn, who: Consultant) -> dict[str, Any]:
        """Record one activity as the token's consultant; returns the stored activity.

        An ``id`` another consultant's activity holds is answered as an unused one would be
        (201 and the activity), and nothing is stored: the answer never tells whether an id
        exists outside the caller's own activities. Only the caller's own id with other
        content is a 409."""
        data = own(who, body.model_dump(exclude_unset=True))
        view = tracker.as_consultant(str(who.id))
        try:
            stored = view.record(data)
        except it.ConflictError:
            if not held_by_other(who, str(data.get("id"))):
                raise
            return tracker.check(data).to_dict()
        return stored.to_dict()

    def held_by_other(who: Principal, rid: str) -> bool:
        """Whether ``rid`` is stored as another consultant's activity (told to no one)."""
        row = tracker.store.get(rid)
        return row is not None and row["consultant"] != who.id

    @app.post("/activities/import", responses=ERRORS, tags=["consultant"])
    def import_activities(body: ImportIn, who: Consultant) -> ImportOut:
        """Import many activities (all-or-nothing): rows naming another consultant are refused."""
        rows = [own(who, r) for r in body.activities]
        foreign = [
            it.Problem(
                "consultant",
                "forbidden",
                "names another consultant; a consultant imports only their own activities",
                row=n,
            )
            for n, r in enumerate(rows, 1)
            if r["consultant"] != who.id
        ]
        if foreign:
            result = it.ImportResult(0, 0, tuple(foreign), len(rows))
        else:
            result = _import_own(rows, who)
        return ImportOut(
            inserted=result.inserted,
            duplicates=result.duplicates,
            total=result.total,
            ok=result.ok,
            rejected=[
                ProblemOut(field=p.field, code=p.code, message=p.message, row=p.row)
                for p in result.rejected
            ],
        )

    def _import_own(rows: list[dict[str, Any]], who: Principal) -> it.ImportResult:
        """``record_many``, with rows whose id another consultant holds answered as fresh
        rows are (counted as inserted) and not stored, as ``POST /activities`` does."""
        hidden: set[int] = set()  # 0-based positions of such rows
        for _ in range(4):  # another consultant may store one of the ids meanwhile
            keep = [n for n in range(len(rows)) if n not in hidden]
            result = tracker.record_many([rows[n] for n in keep])
            clash = {
                keep[p.row - 1]
                for p in result.rejected
                if p.code == "conflict" and p.row is not None
                if held_by_other(who, str(rows[keep[p.row - 1]].get("id")))
            }
            if not clash:
                break
            hidden |= clash
        rejected = tuple(
            attrs.evolve(p, row=None if p.row is None else keep[p.row - 1] + 1)
            for p in result.rejected
        )
        shown = result.inserted + (len(hidden) if not rejected else 0)
        return it.ImportResult(shown, result.duplicates, rejected, len(rows))

    ActivityId = Annotated[uuid.UUID, Path(description="the activity's id")]
    by_id_errors: dict[int | str, dict[str, Any]] = {
        **ERRORS,
        404: {"model": ErrorOut, "description": "the caller has no such activity"},
    }

    @app.patch("/activities/{activity_id:uuid}", responses=by_id_errors, tags=["consultant"])
    def amend_activity(
        activity_id: ActivityId, body: ActivityPatch, who: Consultant
    ) -> dict[str, Any]:
        """Correct one of the token's consultant's activities: only the fields sent change.
        Returns the activity as now stored. Another consultant's id is a 404, as an unknown
        one is; a deleted one is a 404 saying to restore it first."""
        view = tracker.as_consultant(str(who.id))
        return view.amend(activity_id, **body.model_dump(exclude_unset=True)).to_dict()

    @app.delete(
        "/activities/{activity_id:uuid}",
        status_code=204,
        response_class=Response,
        responses=by_id_errors,
        tags=["consultant"],
    )
    def delete_activity(activity_id: ActivityId, who: Consultant) -> Response:
        """Delete one of the token's consultant's activities (``POST …/restore`` undoes it)."""
        tracker.as_consultant(str(who.id)).delete(activity_id)
        return Response(status_code=204)

    @app.post(
        "/activities/{activity_id:uuid}/restore",
        responses={**by_id_errors, 409: {"model": ErrorOut, "description": "not deleted"}},
        tags=["consultant"],
    )
    def restore_activity(activity_id: ActivityId, who: Consultant) -> dict[str, Any]:
        """Bring back one of the token's consultant's deleted activities, as it was."""
        return tracker.as_consultant(str(who.id)).restore(activity_id).to_dict()

    @app.get("/me/activities", responses=ERRORS, tags=["consultant"])
    def my_activities(who: Consultant, fiscal_year: FiscalYear = None) -> list[dict[str, Any]]:
        """The token's consultant's own activities (with their own notes)."""
        return [a.to_dict() for a in tracker.as_consultant(str(who.id)).activities(fiscal_year)]

    @app.get("/me/summary", responses=ERRORS, tags=["consultant"])
    def my_summary(who: Consultant, fiscal_year: FiscalYear = None) -> dict[str, Any]:
        """Exact totals of the token's consultant's own data."""
        out: dict[str, Any] = _plain(tracker.as_consultant(str(who.id)).summary(fiscal_year))
        return out

    # an HTML route documents its JSON errors explicitly (FastAPI would call them text/html)
    json_errors = {
        status: {
            "description": e["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for status, e in ERRORS.items()
    }

    @app.get(
        "/me/portfolio", response_class=HTMLResponse, responses=json_errors, tags=["consultant"]
    )
    def my_portfolio(who: Consultant, fiscal_year: FiscalYear = None) -> HTMLResponse:
        """The consultant's printable HTML portfolio."""
        return HTMLResponse(tracker.as_consultant(str(who.id)).portfolio_html(fiscal_year))

    @app.get("/program/contacts", responses=ERRORS, tags=["program"])
    def program_contacts(who: Program, fiscal_year: FiscalYear = None) -> list[dict[str, Any]]:
        """The token's program's contacts with consultants."""
        out: list[dict[str, Any]] = _plain(tracker.as_program(str(who.id)).contacts(fiscal_year))
        return out

    @app.get("/state/tables", responses=ERRORS, tags=["state"])
    def state_tables(who: State) -> list[dict[str, Any]]:
        """The tables the profile publishes (the only ones the state may ask for)."""
        return tracker.as_state().published()

    @app.get("/state/tables/{name}", responses={**ERRORS, 404: {"model": ErrorOut}}, tags=["state"])
    def state_table(name: str, who: State, fiscal_year: FiscalYear = None) -> dict[str, Any]:
        """One published table, with small and complementary cells suppressed."""
        if name not in {t.name for t in tracker.profile.tables}:
            raise it.NotFound(f"the profile publishes no table {name!r}; see GET /state/tables")
        return _state_table(tracker, name, fiscal_year)

    @app.post(
        "/research/releases", responses={**ERRORS, 429: {"model": ErrorOut}}, tags=["analyst"]
    )
    def release(body: ReleaseIn, who: Analyst) -> dict[str, Any]:
        """A differentially private release; spends ``epsilon`` of the analyst's budget."""
        return _release(tracker, str(who.id), body)

    @app.get("/research/budget", responses=ERRORS, tags=["analyst"])
    def budget(who: Analyst) -> dict[str, Any]:
        """The analyst's privacy budget: spent and remaining."""
        return _budget(tracker, str(who.id))

    return app


# -- state and research: thin wrappers over the library's views ---------------------------------
def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """JSON-ready: dates, decimals and ids as FastAPI encodes them, no NaN."""
    return _finite(jsonable_encoder(value))


def _state_table(tracker: it.Tracker, name: str, fiscal_year: int | None) -> dict[str, Any]:
    table = tracker.as_state().table(name, fiscal_year=fiscal_year)
    out: dict[str, Any] = _plain(table.to_dict())
    return out


def _release(tracker: it.Tracker, analyst: str, body: ReleaseIn) -> dict[str, Any]:
    lab = tracker.as_researcher(analyst)
    query = it.Query(measures=body.measures, by=body.by, where=body.where)
    rel = lab.release(query, epsilon=body.epsilon, rho=body.rho)
    out: dict[str, Any] = _plain(rel.to_dict())
    return out


def _budget(tracker: it.Tracker, analyst: str) -> dict[str, Any]:
    b = tracker.as_researcher(analyst).budget
    out: dict[str, Any] = _finite(
        {
            "analyst": b.analyst,
            "currency": "epsilon",
            "fiscal_years": [
                {
                    "fiscal_year": y.fiscal_year,
                    "spent": y.spent,
                    "allotment": y.allotment,
                    "remaining": y.remaining,
                    "lifetime_cap": y.lifetime_cap,
                    "lifetime_remaining": y.lifetime_remaining,
                }
                for y in b.years
            ],
        }
    )
    return out
