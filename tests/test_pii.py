"""The note screen against a corpus: every note with personal data is caught; clean notes
that merely look like it (counts, rooms, times, program names) mostly pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iecmhc_tracker._pii import DETECTORS, screen

PERSONAL: list[tuple[str, str]] = [
    # e-mail
    ("email", "Sent the plan to jane.doe@example.org after the visit."),
    ("email", "Parent asked me to write to mom_1985@gmail.com"),
    ("email", "Director's address is director@sunshine-kids.net for follow up"),
    ("email", "cc: T.Nguyen+iecmhc@district99.k12.il.us"),
    # phone
    ("phone", "Call the family back at (312) 555-0147 on Monday."),
    ("phone", "Teacher cell 773-555-0199."),
    ("phone", "Left a voicemail at 217.555.0123"),
    ("phone", "Her number is +1 618 555 0100"),
    ("phone", "phone: 555-0188"),
    # ssn
    ("ssn", "Intake form listed SSN 123-45-6789 by mistake."),
    ("ssn", "ssn 987 65 4321 was on the referral"),
    ("ssn", "Number on the card: 321-54-9876"),
    # date of birth
    ("date_of_birth", "Child's DOB 04/12/2021, turning four soon."),
    ("date_of_birth", "born on March 3, 2020 per the file"),
    ("date_of_birth", "Date of birth: 2019-11-30"),
    ("date_of_birth", "his birthday is 5/6/19 so he moves rooms"),
    ("date_of_birth", "D.O.B. 1/2/2022"),
    ("date_of_birth", "Toddler was born in Sept 2022."),
    # street address
    ("address", "Home visit at 1427 W Maple Street tomorrow."),
    ("address", "Family moved to 88 Lincoln Ave."),
    ("address", "Meeting at 2020 N Lake Shore Drive, suite 3"),
    ("address", "Mail forms to PO Box 4411"),
    ("address", "Lives in Apt 12 of the complex on Oak"),
    ("address", "Drop-off at 5 Elm Rd before 9"),
    ("address", "Center relocated to 301 21st Street"),
    # record / case numbers
    ("record_number", "DCFS case #2024-11873 is open."),
    ("record_number", "Medical record number 00482913 mentioned by nurse"),
    ("record_number", "Client ID: A-77812"),
    ("record_number", "See file no. 55102 for the plan"),
    ("record_number", "Student ID 4481920 transferring"),
    ("record_number", "Medicaid 987654321 pending"),
    # names with titles / named children
    ("name", "Mrs. Smith worried about biting in the toddler room."),
    ("name", "Dr. Lee will evaluate next week."),
    ("name", "Spoke with Ms Alvarez about transitions."),
    ("name", "A child named Jayden hit peers twice."),
    ("name", "Mr. O'Brien (director) approved the plan."),
    ("name", "The boy called Marcus was calmer today."),
    ("name", "mother named Rosa asked for parenting classes"),
]

CLEAN: list[str] = [
    "Met with the 3 classroom teachers to plan transitions.",
    "Head Start director asked about the expulsion policy.",
    "Observed Room 12 during free play; 14 children present.",
    "Session ran 9:30-11:00, then debrief until 11:45.",
    "Spent 2.5 hours on reflective supervision with the team.",
    "Early Head Start staff meeting, 6 staff attended.",
    "Modeled co-regulation at circle time in Room 204.",
    "Follow-up scheduled in 2 weeks (week of the 14th).",
    "Discussed the 2024-2025 school year goals.",
    "Provided training on trauma-informed care to 12 staff.",
    "Classroom of 18 four-year-olds; ratio 1:9.",
    "Explored staff stress and burnout; turnover is high this year.",
    "Problem-solving session on biting in the toddler room.",
    "Reviewed the ASQ:SE-2 screening process with the director.",
    "Referred the family to community mental health services.",
    "Reflecting with the lead teacher about her own reactions.",
    "Virtual session over Zoom, 45 minutes.",
    "Program has 4 classrooms and 2 family child care homes.",
    "Used the Pyramid Model practices checklist.",
    "Met at 10 with the assistant director and 2 aides.",
    "Teachers asked for more support in Classroom B.",
    "Home visiting team of 5 met for group consultation.",
    "Expulsion was prevented; child remains enrolled.",
    "Plan revisited on 3/14 with updated goals.",
    "Call lasted 42 minutes; recommended consultation.",
    "Covered 3 of the 8 competencies in supervision.",
    "Drove 35 miles to the rural site; 1.75 hours onsite.",
    "Staff rated the session 4 out of 5.",
    "Preschool room 3 is short 1 teacher this month.",
    "Discussed Dr. Seuss week activities for literacy.",
    "Mrs and Mr categories appear on the sign-in sheet only.",
    "Doctor appointments were discussed in general terms.",
    "Family child care provider serves 8 children.",
    "Spanish-language Community of Support session, 9 participants.",
    "Worked on the expulsion policy draft, version 2.",
]


@pytest.mark.parametrize(("kind", "note"), PERSONAL)
def test_every_personal_note_is_caught_with_its_kind(kind: str, note: str) -> None:
    kinds = {d.kind for d in screen(note)}
    assert kind in kinds, f"{note!r} not flagged as {kind}"


def test_clean_notes_pass_at_least_95_percent() -> None:
    flagged = [n for n in CLEAN if screen(n)]
    assert len(PERSONAL) + len(CLEAN) >= 60
    assert len(flagged) / len(CLEAN) <= 0.05, flagged


def test_corpus_is_balanced_over_every_kind() -> None:
    from iecmhc_tracker._pii import DETECTORS

    assert {k for k, _ in PERSONAL} == {d.kind for d in DETECTORS}


# -- the cheap pre-checks in screen never change what it finds ---------------------------------

_PIECES = [
    "DOB", "d.o.b.", "D.O.B", "date of birth", "Birthday", "BORN on", "born in", "ob", "o.b",
    "Dr.", "dr ", "Mrs ", "Officer ", "child named ", "whose name is ", " Smith", "\tJo", "\x1cK",
    "@", "jane@x.org", "a@b", "123-45-6789", "555 0147", "(312) 555-0147", "phone 5550188",
    "#12345", "case # AB-1234", "12 Oak Street", "Apt 4", "P.O. Box 9", "١٢٣-٤٥-٦٧٨٩",
    "٣", "𝟙𝟚𝟛", "ſ", "K", "İ", "ß", "BIRTH", "ᴮorn", " ", "\n", "x", "Room 4", "aB",
    "DOB 4/5/21", "d.o.b. jan", "born on 3", "Mr. Lee", "call 555-0188", "id# 12345",
]  # fmt: skip


def reference_screen(text: str) -> list[str]:
    return [d.kind for d in DETECTORS if d.pattern.search(text)]


@given(
    st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=8).map("".join)
    | st.text(max_size=40)
)
@settings(max_examples=1500)
def test_screen_finds_exactly_what_every_pattern_finds(text: str) -> None:
    assert [d.kind for d in screen(text)] == reference_screen(text)


@pytest.mark.parametrize(("kind", "note"), PERSONAL)
def test_screen_matches_the_patterns_on_the_corpus(kind: str, note: str) -> None:
    assert [d.kind for d in screen(note)] == reference_screen(note)
