"""The REST adapter: every endpoint checks the token's role, errors map to HTTP codes, and the
service answers no generated input with a server error."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from adapters.rest import Principal, TokenConfigError, create_app, load_tokens
from adapters.rest.export_openapi import DEFAULT as SPEC_PATH
from adapters.rest.export_openapi import render
from fastapi.testclient import TestClient

import iecmhc_tracker as it

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TODAY = dt.date(2026, 11, 1)
TOKENS = {
    "tok-consultant-c1-xxxxxxxx": Principal("consultant", "c-1"),
    "tok-consultant-c2-xxxxxxxx": Principal("consultant", "c-2"),
    "tok-program-p1-xxxxxxxxxxx": Principal("program", "p-1"),
    "tok-state-xxxxxxxxxxxxxxxx": Principal("state"),
    "tok-analyst-a1-xxxxxxxxxxx": Principal("analyst", "a-1"),
}
C1, C2, PROGRAM, STATE, ANALYST = ({"Authorization": f"Bearer {t}"} for t in TOKENS)


def consultation(**over: object) -> dict[str, object]:
    d: dict[str, object] = {
        "date": "2025-03-04",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
        "hours": "1.5",
        "program": "p-1",
    }
    d.update(over)
    return d


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def tracker(tmp_path: Path) -> it.Tracker:
    return it.Tracker.open("memory://", "illinois", today=lambda: TODAY, cache_dir=tmp_path)


@pytest.fixture()
def client(tracker: it.Tracker) -> TestClient:
    return TestClient(create_app(tracker, TOKENS))


def test_consultant_records_as_themselves_and_reads_only_their_own(client: TestClient) -> None:
    r = client.post("/activities", json=consultation(note="Reflected on routines."), headers=C1)
    assert r.status_code == 201, r.text
    assert r.json()["consultant"] == "c-1"
    assert client.post("/activities", json=consultation(hours="3"), headers=C2).status_code == 201

    mine = client.get("/me/activities", headers=C1).json()
    assert [a["consultant"] for a in mine] == ["c-1"]
    assert mine[0]["note"] == "Reflected on routines."  # a consultant's own note comes back
    assert client.get("/me/summary", headers=C1).json()["hours"] == 1.5
    assert client.get("/me/summary", headers=C2).json()["hours"] == 3.0


def test_consultant_cannot_record_as_another(client: TestClient, tracker: it.Tracker) -> None:
    r = client.post("/activities", json=consultation(consultant="c-2"), headers=C1)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert tracker.as_consultant("c-2").activities() == []


def test_validation_error_lists_every_problem(client: TestClient) -> None:
    r = client.post(
        "/activities", json=consultation(county="atlantis", hours="30", setting=None), headers=C1
    )
    assert r.status_code == 422
    fields = {(p["field"], p["code"]) for p in r.json()["problems"]}
    assert {("county", "unknown_code"), ("hours", "range"), ("setting", "required")} <= fields


def test_unknown_field_and_malformed_body_are_422(client: TestClient) -> None:
    r = client.post("/activities", json=consultation(child_name="x"), headers=C1)
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "child_name"
    r = client.post("/activities", content=b"{not json", headers=C1)
    assert r.status_code == 422


def test_same_id_other_content_is_a_conflict(client: TestClient) -> None:
    rid = str(uuid.uuid4())
    assert client.post("/activities", json=consultation(id=rid), headers=C1).status_code == 201
    again = client.post("/activities", json=consultation(id=rid), headers=C1)
    assert again.status_code == 201  # re-recording the same content is a no-op
    r = client.post("/activities", json=consultation(id=rid, hours="2"), headers=C1)
    assert r.status_code == 409
    assert r.json()["error"] == "conflict"


def test_import_reports_rows_and_refuses_other_consultants(
    client: TestClient, tracker: it.Tracker
) -> None:
    rows = [consultation(), consultation(county="atlantis"), consultation(hours="2")]
    r = client.post("/activities/import", json={"activities": rows}, headers=C1)
    assert r.status_code == 200
    body = r.json()
    assert (body["inserted"], body["ok"], body["total"]) == (0, False, 3)
    assert [p["row"] for p in body["rejected"]] == [2]
    assert tracker.as_consultant("c-1").activities() == []  # all-or-nothing

    r = client.post(
        "/activities/import", json={"activities": [consultation(), consultation()]}, headers=C1
    )
    assert (r.json()["inserted"], r.json()["ok"]) == (2, True)

    r = client.post(
        "/activities/import",
        json={"activities": [consultation(hours="4"), consultation(consultant="c-2")]},
        headers=C1,
    )
    body = r.json()
    assert body["inserted"] == 0
    assert [(p["row"], p["code"]) for p in body["rejected"]] == [(2, "forbidden")]
    assert tracker.as_consultant("c-2").activities() == []


def test_portfolio_is_html_of_own_data(client: TestClient) -> None:
    client.post("/activities", json=consultation(), headers=C1)
    r = client.get("/me/portfolio", headers=C1)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "c-1" in r.text and "c-2" not in r.text


def test_program_sees_its_contacts_only(client: TestClient) -> None:
    client.post("/activities", json=consultation(), headers=C1)
    client.post("/activities", json=consultation(program="p-9"), headers=C2)
    contacts = client.get("/program/contacts", headers=PROGRAM).json()
    assert [c["consultant"] for c in contacts] == ["c-1"]
    assert "note" not in contacts[0]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/me/activities", PROGRAM),
        ("/me/activities", STATE),
        ("/me/activities", ANALYST),
        ("/me/summary", STATE),
        ("/me/portfolio", ANALYST),
        ("/program/contacts", C1),
        ("/program/contacts", STATE),
        ("/state/tables", C1),
        ("/state/tables", ANALYST),
        ("/research/budget", C1),
        ("/research/budget", STATE),
    ],
)
def test_roles_are_enforced_on_reads(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    r = client.get(path, headers=headers)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


@pytest.mark.parametrize("headers", [PROGRAM, STATE, ANALYST])
def test_only_consultants_record(client: TestClient, headers: dict[str, str]) -> None:
    assert client.post("/activities", json=consultation(), headers=headers).status_code == 403
    r = client.post("/activities/import", json={"activities": [consultation()]}, headers=headers)
    assert r.status_code == 403


def test_state_and_consultant_tokens_cannot_release(client: TestClient) -> None:
    for headers in (C1, PROGRAM, STATE):
        r = client.post("/research/releases", json={"measures": ["hours"]}, headers=headers)
        assert r.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dTpw"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get("/me/activities", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_analyst_release_has_intervals_and_spends_budget(
    client: TestClient, tracker: it.Tracker
) -> None:
    tracker.record_many(it.generate_activities(tracker.profile, 400, consultants=12, today=TODAY))
    r = client.post(
        "/research/releases",
        json={"measures": ["hours"], "by": ["consultation_type"], "epsilon": 1.0},
        headers=ANALYST,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    # the charge is OpenDP's composition map of the noise actually added: ε = 1 up to rounding
    assert body["metadata"]["epsilon"] == pytest.approx(1.0, rel=1e-6)
    codes = {c["consultation_type"] for c in body["cells"]}
    assert codes == set(tracker.profile.code_set("consultation_type"))
    assert all(c["ci_low"] <= c["value"] <= c["ci_high"] for c in body["cells"])
    budget = client.get("/research/budget", headers=ANALYST).json()
    assert budget["currency"] == "epsilon"
    years = budget["fiscal_years"]
    # a query over every year is charged on every fiscal year of data
    assert [y["fiscal_year"] for y in years] == list(tracker.profile.fiscal_years(TODAY))
    left = tracker.profile.dp.analyst_epsilon_per_fiscal_year - 1.0
    for y in years:
        assert y["spent"] == pytest.approx(1.0, rel=1e-6)
        assert y["remaining"] == pytest.approx(left, rel=1e-6)
        assert y["lifetime_remaining"] == pytest.approx(y["lifetime_cap"] - 1.0, rel=1e-6)


def test_the_analyst_is_the_tokens_principal_never_a_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        assert "analyst" not in path.lower()
        for op in ops.values():
            names = {p["name"].lower() for p in op.get("parameters", [])}
            assert not {n for n in names if "analyst" in n}, (path, names)
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            if ref:
                schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
                assert not {k for k in schema.get("properties", {}) if "analyst" in k.lower()}


def test_budget_exceeded_is_429_and_id_dimensions_are_403(client: TestClient) -> None:
    too_much = {"measures": ["hours"], "by": ["county"], "epsilon": 99}
    r = client.post("/research/releases", json=too_much, headers=ANALYST)
    assert r.status_code == 429
    assert r.json()["error"] == "budget_exceeded"
    r = client.post(
        "/research/releases", json={"measures": ["hours"], "by": ["consultant"]}, headers=ANALYST
    )
    assert r.status_code == 403


def test_token_file_roles_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "tokens.toml"
    good.write_text(
        '[[tokens]]\ntoken = "0123456789abcdef-c"\nrole = "consultant"\nid = "c-1"\n'
        '[[tokens]]\ntoken = "0123456789abcdef-s"\nrole = "state"\n'
    )
    table = load_tokens(good)
    assert table.find("0123456789abcdef-c") == Principal("consultant", "c-1")
    assert table.find("0123456789abcdef-s") == Principal("state")
    assert table.find("0123456789abcdef-x") is None
    js = tmp_path / "tokens.json"
    js.write_text(json.dumps({"tokens": [{"token": "0123456789abcdef-a", "role": "analyst"}]}))
    with pytest.raises(TokenConfigError, match="entry 1: a analyst token needs an 'id'"):
        load_tokens(js)
    short = tmp_path / "short.toml"
    short.write_text('[[tokens]]\ntoken = "abc"\nrole = "state"\n')
    with pytest.raises(TokenConfigError, match="at least 16 characters"):
        load_tokens(short)


def test_shipped_example_token_file_loads() -> None:
    table = load_tokens(ROOT / "adapters/rest/tokens.example.toml")
    assert table.find("consultant-7f3a-0123456789abcdef") == Principal("consultant", "c-7f3a")


def test_committed_openapi_spec_is_up_to_date() -> None:
    assert SPEC_PATH.read_text(encoding="utf-8") == render(), (
        "adapters/rest/openapi.json is stale: run python -m adapters.rest.export_openapi"
    )


@pytest.mark.parametrize(
    "fragment",
    ['"note": "ab\\ud800cd"', '"extra": {"\\ud800": 1}', '"\\udfff": 1'],
    ids=["note", "extra-name", "field-name"],
)
def test_lone_surrogates_are_refused_not_a_server_error(tmp_path: Path, fragment: str) -> None:
    # JSON may carry a lone surrogate; UTF-8 (and so SQLite) cannot: it is invalid input
    t = it.Tracker.open(f"sqlite:///{tmp_path / 't.db'}", "illinois", today=lambda: TODAY)
    client = TestClient(create_app(t, TOKENS), raise_server_exceptions=False)
    body = json.dumps(consultation())[:-1] + ", " + fragment + "}"
    r = client.post(
        "/activities", content=body.encode(), headers={**C1, "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation"
    assert t.as_consultant("c-1").activities() == []


def _walk_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _walk_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _walk_strings(v)]
    return []


def test_state_sees_published_tables_suppressed_and_no_ids(
    client: TestClient, tracker: it.Tracker
) -> None:
    tracker.record_many(it.generate_activities(tracker.profile, 1500, consultants=30, today=TODAY))
    # one consultant alone in preschool settings: that cell must be withheld
    for day in ("2025-03-03", "2025-03-10", "2025-03-17"):
        tracker.record(
            {
                "consultant": "c-lone",
                "program": "p-lone",
                "date": day,
                "county": "cook",
                "kind": "training",
                "setting": "preschool",
                "hours": "2",
            }
        )
    listed = client.get("/state/tables", headers=STATE).json()
    assert [t["name"] for t in listed] == [t.name for t in tracker.profile.tables]

    r = client.get("/state/tables/training_hours", params={"fiscal_year": 2025}, headers=STATE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["mode"] == "suppression"
    preschool = next(c for c in body["cells"] if c["setting"] == "preschool")
    assert preschool["training_hours"] is None and preschool["training_hours_flag"]
    strings = _walk_strings(body)
    assert "consultant" not in strings and "program" not in strings
    assert not [s for s in strings if s.startswith(("c-", "p-"))]


def test_state_table_errors(client: TestClient) -> None:
    r = client.get("/state/tables/hours_by_consultant", headers=STATE)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    r = client.get("/state/tables/hours_by_type", params={"fiscal_year": 1990}, headers=STATE)
    assert r.status_code == 422
    for headers in (C1, PROGRAM, ANALYST):
        assert client.get("/state/tables/hours_by_type", headers=headers).status_code == 403


def test_gaussian_release_and_both_currencies_refused(
    client: TestClient, tracker: it.Tracker
) -> None:
    tracker.record_many(it.generate_activities(tracker.profile, 300, consultants=10, today=TODAY))
    r = client.post(
        "/research/releases", json={"measures": ["hours"], "rho": 0.05}, headers=ANALYST
    )
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["mechanism"] == "gaussian"
    years = client.get("/research/budget", headers=ANALYST).json()["fiscal_years"]
    assert all(y["spent"] > 0.05 for y in years)  # rho 0.05 is charged as more epsilon
    r = client.post(
        "/research/releases",
        json={"measures": ["hours"], "rho": 0.05, "epsilon": 0.5},
        headers=ANALYST,
    )
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "rho"


# -- corrections ---------------------------------------------------------------------------------
def _recorded(client: TestClient, headers: dict[str, str], **over: object) -> str:
    r = client.post("/activities", json=consultation(**over), headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_patch_changes_only_the_fields_sent(client: TestClient, tracker: it.Tracker) -> None:
    rid = _recorded(client, C1, note="Visited twice.", methods=["reflecting"])
    r = client.patch(f"/activities/{rid}", json={"hours": "2"}, headers=C1)
    assert r.status_code == 200, r.text
    assert r.json()["hours"] == "2"
    [stored] = tracker.as_consultant("c-1").activities()
    assert (float(stored.hours or 0), stored.note, stored.methods) == (
        2.0,
        "Visited twice.",
        ("reflecting",),
    )
    r = client.patch(f"/activities/{rid}", json={"note": None}, headers=C1)
    assert r.status_code == 200 and r.json()["note"] is None


def test_patch_is_validated_as_a_whole_and_keeps_the_owner(
    client: TestClient, tracker: it.Tracker
) -> None:
    rid = _recorded(client, C1)
    r = client.patch(f"/activities/{rid}", json={"county": "atlantis", "hours": "30"}, headers=C1)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"county", "hours"}
    for body in ({"consultant": "c-2"}, {"id": str(uuid.uuid4())}):
        r = client.patch(f"/activities/{rid}", json=body, headers=C1)
        assert r.status_code == 422, body  # neither can be sent
    assert tracker.as_consultant("c-1").activities()[0].hours == 1.5


def test_delete_and_restore_by_id(client: TestClient, tracker: it.Tracker) -> None:
    rid = _recorded(client, C1)
    assert client.delete(f"/activities/{rid}", headers=C1).status_code == 204
    assert client.get("/me/activities", headers=C1).json() == []
    r = client.patch(f"/activities/{rid}", json={"hours": "2"}, headers=C1)
    assert r.status_code == 404 and "restore" in r.json()["message"]
    r = client.post("/activities", json=consultation(id=rid), headers=C1)
    assert r.status_code == 409 and "restore" in r.json()["message"]
    r = client.post(f"/activities/{rid}/restore", headers=C1)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rid
    assert [a["id"] for a in client.get("/me/activities", headers=C1).json()] == [rid]
    r = client.post(f"/activities/{rid}/restore", headers=C1)
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_another_consultants_activity_is_not_found_by_id(
    client: TestClient, tracker: it.Tracker
) -> None:
    rid = _recorded(client, C1)
    unknown = str(uuid.uuid4())
    for target in (rid, unknown):
        answers = [
            client.patch(f"/activities/{target}", json={"hours": "2"}, headers=C2),
            client.delete(f"/activities/{target}", headers=C2),
            client.post(f"/activities/{target}/restore", headers=C2),
        ]
        assert [r.status_code for r in answers] == [404, 404, 404]
        # the same words for someone else's id as for one nobody holds
        assert {r.json()["message"].replace(target, "ID") for r in answers} == {
            "no stored activity has id ID"
        }
    client.delete(f"/activities/{rid}", headers=C1)
    assert client.post(f"/activities/{rid}/restore", headers=C2).status_code == 404
    assert tracker.as_consultant("c-1").activities() == []


@pytest.mark.parametrize("headers", [PROGRAM, STATE, ANALYST], ids=["program", "state", "analyst"])
def test_only_consultants_correct(
    client: TestClient, tracker: it.Tracker, headers: dict[str, str]
) -> None:
    rid = _recorded(client, C1)
    assert (
        client.patch(f"/activities/{rid}", json={"hours": "2"}, headers=headers).status_code == 403
    )
    assert client.delete(f"/activities/{rid}", headers=headers).status_code == 403
    assert client.post(f"/activities/{rid}/restore", headers=headers).status_code == 403
    assert len(tracker.as_consultant("c-1").activities()) == 1
    assert client.delete("/activities/not-a-uuid", headers=C1).status_code == 404
