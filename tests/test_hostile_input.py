"""Hostile and heavy input: every bad value of every field, through the library, the REST
service and ``iecmhc import``, is a ValidationError naming the field; nothing stored changes."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import iecmhc_tracker as it
from iecmhc_tracker.cli import app as cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TODAY = dt.date(2026, 11, 1)
BIG_DIGITS = 4400  # past Python's int-string limit (4300)
runner = CliRunner()


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Illinois with one extra free-text field, ``observation``."""
    shipped = Path(it.__file__).parent / "profiles" / "illinois.toml"
    path = tmp_path_factory.mktemp("profile") / "illinois_text.toml"
    path.write_text(
        shipped.read_text(encoding="utf-8")
        + '\n[fields.observation]\ntype = "text"\nlabel = "Observation"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def profile(profile_file: Path) -> it.Profile:
    return it.load_profile(profile_file)


def base(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "consultant": "c-base",
        "program": "p-1",
        "date": "2025-03-04",
        "county": "cook",
        "kind": "consultation",
        "setting": "head_start",
        "consultation_type": "classroom",
        "hours": "1.5",
    }
    d.update(over)
    return d


class Big:
    """An integer too long for ``int(str)``: JSON numbers of BIG_DIGITS digits."""

    def __init__(self, digits: int = BIG_DIGITS) -> None:
        self.digits = digits

    def value(self) -> int:
        limit = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return int("9" * self.digits)
        finally:
            sys.set_int_max_str_digits(limit)


def native(value: Any) -> Any:
    if isinstance(value, Big):
        return value.value()
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """JSON text, with Big written as a bare run of digits."""

    def walk(v: Any) -> Any:
        if isinstance(v, Big):
            return f"__BIG{v.digits}__"
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    text = json.dumps(walk(value))
    return text.replace(f'"__BIG{BIG_DIGITS}__"', "9" * BIG_DIGITS)


# -- what is hostile, field by field ---------------------------------------------------------
CONTROL = st.sampled_from(["\x00", "\x1b", "\x07", "\x7f", "\x85", "\r", "\x0b", "\ufeff"])
UNICODE_DIGITS = st.sampled_from(["²", "①", "٣", "٣٠", "१", "２", "𝟗", "³⁰", "¼"])
SURROGATE = st.sampled_from(["\ud800", "\udcff", "\udfff"])
#: around a number, code or date, ASCII white space (CR among it) is trimmed, not refused
NOT_SPACE = CONTROL.filter(lambda c: c != "\r")


def _spliced(text: str, bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda at, b: text[:at] + b + text[at:], st.integers(0, len(text)), bad)


def _ids() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just("c-base\n"),
        _spliced("c-base", st.one_of(CONTROL, SURROGATE, st.just("\n"), st.just(" "))),
        st.sampled_from(
            [
                "Jayden.Smith",
                "jayden.smith.2021-03-14",
                "c-2021-03-14",
                "c-03.14.2021",
                "maria_garcia",
                "x" * 65,
                "x" * 100_000,
                "\ufeffc-base",
                "c-١٢",
            ]
        ),
        st.integers(),
        st.floats(allow_nan=True),
    )


def _numbers(whole: bool) -> st.SearchStrategy[Any]:
    return st.one_of(
        UNICODE_DIGITS,
        st.builds(lambda d: f"1{d}", UNICODE_DIGITS),
        st.just(Big()),
        st.just("9" * 5000),
        st.just("1" * 100_000),
        st.sampled_from([float("nan"), float("inf"), float("-inf"), "NaN", "-Infinity", "sNaN"]),
        st.sampled_from(["1e999999999", "1e-999999999", "0x10", "1_0", "+-1", "--1"]),
        st.just("\ufeff1"),
        _spliced("2", st.one_of(NOT_SPACE, SURROGATE)),
        st.lists(st.integers(), max_size=2),
        # a zero with a sign is zero, a fine count; it is no number of hours
        *([st.just(1.5), st.just("2.5")] if whole else [st.sampled_from(["-0", -0.0, "0.3"])]),
    )


def _codes() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(lambda b: b + "cook", NOT_SPACE),
        _spliced("cook", st.one_of(NOT_SPACE, SURROGATE)),
        st.just("x" * 200_000),
        st.integers(),
        st.lists(st.lists(st.text(max_size=3), max_size=2), min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
    )


def _free_text(limit: int) -> st.SearchStrategy[Any]:
    prose = "Reflected on routines with the lead teacher."
    return st.one_of(
        _spliced(prose, st.one_of(CONTROL.filter(lambda c: c != "\r"), SURROGATE)),
        st.just(prose + "\r"),
        st.just("a" * (limit + 1)),
        st.just("a" * 1_000_000),
        st.just("Call Jayden Smith at 312-555-0142"),
        st.integers(),
        st.lists(st.text(max_size=3), min_size=1, max_size=2),
    )


HOSTILE: dict[str, st.SearchStrategy[Any]] = {
    "id": st.one_of(
        st.sampled_from(["not-a-uuid", "٣" * 32, "\ufeff" + "0" * 32, "x" * 100_000]),
        _spliced(str(uuid.UUID(int=1)), st.one_of(CONTROL, SURROGATE)),
        st.integers(),
        st.just(Big()),
    ),
    "consultant": _ids(),
    "program": _ids(),
    "date": st.one_of(
        st.sampled_from(["２０２５-03-04", "2025-03-٠٤", "2025-13-01", "x" * 100_000, "\ufeff"]),
        _spliced("2025-03-04", st.one_of(NOT_SPACE, SURROGATE)),
        st.integers(),
        st.just(Big()),
        st.floats(allow_nan=True),
    ),
    "county": _codes(),
    "kind": _codes(),
    "setting": _codes(),
    "consultation_type": _codes(),
    "methods": st.one_of(
        st.lists(_codes().filter(lambda v: not isinstance(v, list)), min_size=1, max_size=2),
        st.builds(lambda b: f"reflecting;{b}", NOT_SPACE),
    ),
    "hours": _numbers(whole=False),
    "minutes": _numbers(whole=True),
    "children_benefiting": _numbers(whole=True),
    "staff_influenced": _numbers(whole=True),
    "families": _numbers(whole=True),
    "participants": _numbers(whole=True),
    "referrals": st.one_of(
        st.builds(lambda n: {"housing": n}, _numbers(whole=True)),
        st.builds(lambda c: {c: 1}, _codes().filter(lambda v: isinstance(v, str))),
    ),
    "recommended_consultation": st.one_of(UNICODE_DIGITS, st.just(Big()), st.just("ye\x00s")),
    "note": _free_text(4000),
    "extra.observation": _free_text(200),
}


def record_with(field: str, value: Any) -> dict[str, Any]:
    rec = base()
    if field.startswith("extra."):
        rec["extra"] = {field.split(".", 1)[1]: value}
    else:
        rec[field] = value
    return rec


def names(field: str, problems: Any) -> bool:
    top = field.split(".")[0]
    return any(p.field == field or p.field.split(".")[0] == top for p in problems)


hostile = st.sampled_from(sorted(HOSTILE)).flatmap(lambda f: st.tuples(st.just(f), HOSTILE[f]))
FEW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


# -- the library -------------------------------------------------------------------------------
@FEW
@given(case=hostile)
def test_library_refuses_every_hostile_value_naming_the_field(
    profile: it.Profile, case: tuple[str, Any]
) -> None:
    field, value = case
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    good = base()
    tracker.record(good)
    before = tracker.store.rows(consultant="c-base")
    record = native(record_with(field, value))
    with pytest.raises(it.ValidationError) as caught:
        tracker.record(record)
    assert names(field, caught.value.problems), caught.value
    result = tracker.record_many([base(), record, base()])
    assert not result.ok and result.inserted == 0
    assert names(field, [p for p in result.rejected if p.row == 2]), result.rejected
    assert tracker.store.rows(consultant="c-base") == before


# -- REST, through the test client ----------------------------------------------------------
@pytest.fixture(scope="module")
def rest(profile: it.Profile) -> Any:
    from adapters.rest import Principal, create_app
    from fastapi.testclient import TestClient

    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    tokens = {
        "tok-consultant-base-xxxxxxxx": Principal("consultant", "c-base"),
        "tok-consultant-other-xxxxxxx": Principal("consultant", "c-other"),
    }
    return tracker, TestClient(create_app(tracker, tokens), raise_server_exceptions=False)


BASE_TOKEN = {
    "Authorization": "Bearer tok-consultant-base-xxxxxxxx",
    "content-type": "application/json",
}
OTHER_TOKEN = {"Authorization": "Bearer tok-consultant-other-xxxxxxx"}


@FEW
@given(case=hostile)
def test_rest_refuses_every_hostile_value_with_a_422_naming_the_field(
    rest: Any, case: tuple[str, Any]
) -> None:
    tracker, client = rest
    field, value = case
    before = len(tracker.store.rows(consultant="c-base"))
    record = record_with(field, value)
    r = client.post("/activities", content=to_json(record), headers=BASE_TOKEN)
    assert r.status_code in (400, 422), (r.status_code, r.text[:300])
    if r.status_code == 422:
        assert names(field, [it.Problem(**p) for p in r.json()["problems"]]), r.text[:300]
    r = client.post(
        "/activities/import", content=to_json({"activities": [record]}), headers=BASE_TOKEN
    )
    assert r.status_code in (200, 400, 422), (r.status_code, r.text[:300])
    if r.status_code == 200:
        body = r.json()
        assert not body["ok"] and body["inserted"] == 0
        assert names(field, [it.Problem(**p) for p in body["rejected"]]), body
    assert len(tracker.store.rows(consultant="c-base")) == before


# -- iecmhc import -------------------------------------------------------------------------------
@FEW
@given(case=hostile, form=st.sampled_from(["json", "jsonl"]))
def test_cli_import_reports_row_and_field_of_every_hostile_value(
    profile: it.Profile,
    profile_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[str, Any],
    form: str,
) -> None:
    field, value = case
    tmp = tmp_path_factory.mktemp("cli")
    records = [base(), record_with(field, value)]
    path = tmp / f"in.{form}"
    if form == "json":
        path.write_text(to_json(records), encoding="utf-8", errors="surrogatepass")
    else:
        path.write_text(
            "\n".join(to_json(r) for r in records), encoding="utf-8", errors="surrogatepass"
        )
    db = f"sqlite:///{tmp / 'cli.db'}"
    r = runner.invoke(cli, ["import", str(path), "--db", db, "--profile", str(profile_file)])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "rejected" in r.output and field.split(".")[0] in r.output, r.output
    with it.Tracker.open(db, profile) as t:
        assert t.store.rows(consultant="c-base") == []


def test_cli_import_refuses_deep_json_in_one_line(tmp_path: Path) -> None:
    for name, text in (("deep.json", "[" * 10_000 + "]" * 10_000),
                       ("deep.jsonl", '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}")):  # fmt: skip
        path = tmp_path / name
        path.write_text(text)
        r = runner.invoke(cli, ["import", str(path), "--db", f"sqlite:///{tmp_path / 'd.db'}"])
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
        assert "nested too deeply" in r.output and "Traceback" not in r.output


def test_cli_import_names_the_field_holding_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"\xef\xbb\xbfconsultant,date,county,kind,hours,note\n"
        b"c-1,2025-03-04,cook,training,2,caf\xe9 au lait\n"
    )
    r = runner.invoke(cli, ["import", str(path), "--db", f"sqlite:///{tmp_path / 'u.db'}"])
    assert r.exit_code == 1, r.output
    assert "note" in r.output and "UTF-8" in r.output


def test_cli_import_names_the_field_of_a_huge_csv_cell(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        "consultant,date,county,kind,hours,note\n"
        f"c-1,2025-03-04,cook,training,2,{'a' * 500_000}\n"
        "c-1,2025-03-04,cook,training,2,²\n"
    )
    r = runner.invoke(cli, ["import", str(path), "--db", f"sqlite:///{tmp_path / 'l.db'}"])
    assert r.exit_code == 1, r.output
    assert "note" in r.output and "at most 4000" in r.output


# -- the measured cases of the issue, one by one --------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("consultant", "c-base\n", "pseudonym"),
        ("program", "p-1\n", "pseudonym"),
        ("consultant", "Jayden.Smith.2021-03-14", "identifying"),
        ("consultant", "jayden.smith", "identifying"),
        ("program", "p-20210314", "identifying"),
        ("minutes", "²", "digits"),
        ("minutes", "①", "digits"),
        ("minutes", "٣٠", "digits"),
        ("hours", "٣", "digits"),
        ("minutes", "9" * 4400, "too_large"),
        ("extra.observation", "ok\x00", "control_character"),
        ("extra.observation", "\x1b[31mred", "control_character"),
        ("extra.observation", "Met with Jayden Smith today", "pii_name"),
        ("note", "tab\tand\r\nline are fine but not \x1b", "control_character"),
    ],
)
def test_issue_cases_are_refused(profile: it.Profile, field: str, value: str, code: str) -> None:
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    with pytest.raises(it.ValidationError) as caught:
        tracker.record(record_with(field, value))
    assert (field, code) in {(p.field, p.code) for p in caught.value.problems}, caught.value


def test_pseudonyms_that_look_like_codes_still_pass(profile: it.Profile) -> None:
    tracker = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    for cid in ("c-7f3a", "c-grace", "coach.north:2", "c-2024q3", "lead-01"):
        assert tracker.record(base(consultant=cid)).consultant == cid
    note = "Line one.\r\nLine two\twith a tab."
    assert tracker.record(base(note=note, extra={"observation": "calm room"})).note == note


def test_an_extra_text_problem_says_kind_and_span_and_never_echoes(profile: it.Profile) -> None:
    text = "Met with Jayden Smith, 312-555-0142"
    problems = it.Tracker.open("memory://", profile, today=lambda: TODAY)
    with pytest.raises(it.ValidationError) as caught:
        problems.record(base(extra={"observation": text}))
    messages = [p.message for p in caught.value.problems if p.field == "extra.observation"]
    assert any("a phone number at characters 24–35" in m for m in messages), messages
    assert any("a person's name" in m for m in messages)
    assert not any("Jayden" in m or "555" in m for m in str(caught.value).split("\n"))


def test_the_same_screening_message_from_library_record_and_rest(
    profile: it.Profile, profile_file: Path, rest: Any, tmp_path: Path
) -> None:
    _, client = rest
    text = "Call 312-555-0142"
    with pytest.raises(it.ValidationError) as caught:
        it.Tracker.open("memory://", profile, today=lambda: TODAY).record(
            base(extra={"observation": text})
        )
    (lib,) = [p.message for p in caught.value.problems]
    r = client.post("/activities", json=record_with("extra.observation", text), headers=BASE_TOKEN)
    assert r.status_code == 422 and [p["message"] for p in r.json()["problems"]] == [lib]
    db = f"sqlite:///{tmp_path / 'r.db'}"
    r2 = runner.invoke(
        cli,
        ["record", "--json", json.dumps(record_with("extra.observation", text)), "--db", db,
         "--profile", str(profile_file)],
    )  # fmt: skip
    assert r2.exit_code == 1 and lib in " ".join(r2.output.split())


def test_rest_gives_another_consultants_id_the_answer_of_an_unused_one(rest: Any) -> None:
    tracker, client = rest
    theirs = base(id=str(uuid.uuid4()), hours="2")
    assert client.post("/activities", json=theirs, headers=BASE_TOKEN).status_code == 201
    stored = tracker.store.get(theirs["id"])

    def attempt(rid: str) -> tuple[int, Any]:
        body = base(id=rid, hours="3")
        del body["consultant"]
        r = client.post("/activities", json=body, headers=OTHER_TOKEN)
        out = r.json()
        return r.status_code, {k: v for k, v in out.items() if k != "id"}

    assert attempt(theirs["id"]) == attempt(str(uuid.uuid4()))
    assert tracker.store.get(theirs["id"]) == stored  # neither overwritten nor stored twice
    rows = [base(id=theirs["id"]), base(id=str(uuid.uuid4()))]
    for r in rows:
        del r["consultant"]
    res = client.post("/activities/import", json={"activities": rows}, headers=OTHER_TOKEN)
    fresh = client.post(
        "/activities/import",
        json={
            "activities": [dict(rows[1], id=str(uuid.uuid4())), dict(rows[1], id=str(uuid.uuid4()))]
        },
        headers=OTHER_TOKEN,
    )
    assert res.status_code == fresh.status_code == 200 and res.json() == fresh.json()
    assert tracker.store.get(theirs["id"]) == stored
    # the caller's own id with other content is still the caller's conflict
    mine = dict(theirs, hours="4")
    assert client.post("/activities", json=mine, headers=BASE_TOKEN).status_code == 409
