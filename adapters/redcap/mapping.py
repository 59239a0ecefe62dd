"""REDCap raw CSV rows ⇄ :class:`Activity`.

A mapping is built from a profile and a data dictionary — the generated one
(:meth:`RedcapMapping.generated`) or a project's own export
(:meth:`RedcapMapping.from_dictionary_csv`). Choice codes are matched to the profile's codes by
label (case and spacing ignored) or by the code itself, so a hand-made project with its own
numbering maps too; a choice that matches nothing is refused when the mapping is built.

Reading never raises on a bad value: it hands the value through so that validation
(``Tracker.record_many``) reports it with its row number, like any other bad input.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

import iecmhc_tracker as it

from .dictionary import FORM, variables
from .variables import Variable

CHECKED = {"1": True, "checked": True, "0": False, "unchecked": False, "": False}
YES_NO = {"1": True, "yes": True, "0": False, "no": False}
SYSTEM_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
)


def _norm(label: str) -> str:
    return " ".join(label.casefold().split())


def _parse_choices(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split("|"):
        if not part.strip():
            continue
        raw, _, label = part.partition(",")
        out.append((raw.strip(), label.strip()))
    return out


@attrs.frozen(slots=True)
class RedcapMapping:
    """How one REDCap project's variables carry an Activity under one profile."""

    profile: it.Profile = attrs.field(repr=False)
    variables: tuple[Variable, ...]
    form: str = FORM

    # -- building ------------------------------------------------------------------------
    @classmethod
    def generated(cls, profile: it.Profile) -> RedcapMapping:
        """The mapping of the data dictionary ``adapters.redcap.dictionary`` generates."""
        return cls(profile, variables(profile))

    @classmethod
    def from_dictionary(
        cls,
        profile: it.Profile,
        rows: Iterable[Mapping[str, str]],
        *,
        rename: Mapping[str, str] | None = None,
    ) -> RedcapMapping:
        """A mapping from a project's data dictionary rows (REDCap's column names).

        Variables are named as in the generated dictionary; ``rename`` maps a project's own
        variable names onto those (``{"visit_date": "activity_date"}``). Variables that carry
        no Activity field are ignored. Raises ``ValueError`` naming each choice that matches
        no profile code.
        """
        # every variable the profile could have, as generated where the profile generates it
        expected = {v.name: v for v in variables(_everything(profile))}
        expected.update({v.name: v for v in variables(profile)})
        rename = dict(rename or {})
        found: list[Variable] = []
        problems: list[str] = []
        form = FORM
        for row in rows:
            name = (row.get("Variable / Field Name") or "").strip()
            ours = rename.get(name, name)
            if ours not in expected:
                continue
            form = row.get("Form Name") or form
            base = expected[ours]
            choices: tuple[tuple[str, str, str], ...] = ()
            text = row.get("Choices, Calculations, OR Slider Labels") or ""
            if base.choices and text:
                pool = {_norm(label): code for _, code, label in base.choices}
                codes = {code for _, code, _ in base.choices}
                picked = []
                for raw, label in _parse_choices(text):
                    code = pool.get(_norm(label)) or (raw if raw in codes else None)
                    if code is None:
                        problems.append(f"{name}: choice '{raw}, {label}' matches no code")
                    else:
                        picked.append((raw, code, label))
                choices = tuple(picked)
            found.append(attrs.evolve(base, name=name, choices=choices or base.choices))
        if problems:
            raise ValueError("the data dictionary does not fit the profile: " + "; ".join(problems))
        if not any(v.field == "id" for v in found):
            raise ValueError("the data dictionary has no record_id variable (rename yours)")
        return cls(profile, tuple(found), form)

    @classmethod
    def from_dictionary_csv(
        cls, profile: it.Profile, path: str | Path, *, rename: Mapping[str, str] | None = None
    ) -> RedcapMapping:
        """:meth:`from_dictionary` reading a data dictionary CSV file."""
        with open(path, encoding="utf-8-sig", newline="") as f:
            return cls.from_dictionary(profile, list(csv.DictReader(f)), rename=rename)

    @property
    def columns(self) -> list[str]:
        """The export's column names, in order (checkboxes expand to ``name___code``)."""
        cols: list[str] = []
        for v in self.variables:
            if v.type == "checkbox":
                cols.extend(f"{v.name}___{raw}" for raw, _, _ in v.choices)
            else:
                cols.append(v.name)
        return [*cols, f"{self.form}_complete"]

    # -- Activity -> REDCap ----------------------------------------------------------------
    def to_row(self, activity: it.Activity) -> dict[str, str]:
        """One raw export row for ``activity`` (every value a string, blanks for none)."""
        data = activity.to_dict()
        extra, refs = data["extra"], data["referrals"]
        row: dict[str, str] = {}
        for v in self.variables:
            if v.field.startswith("extra."):
                value = extra.get(v.field[6:])
            elif v.field.startswith("ref."):
                value = refs.get(v.field[4:])
            else:
                value = data.get(v.field)  # engagement: absent when unlinked
            if v.type == "checkbox":
                chosen = set(value or ())
                for raw, code, _ in v.choices:
                    row[f"{v.name}___{raw}"] = "1" if code in chosen else "0"
                continue
            row[v.name] = self._cell(v, value)
        row[f"{self.form}_complete"] = "2"
        return row

    @staticmethod
    def _cell(v: Variable, value: Any) -> str:
        if value is None:
            return ""
        if v.choices:
            for raw, code, _ in v.choices:
                if code == value:
                    return raw
            return str(value)
        if v.type == "yesno" or isinstance(value, bool):
            return "1" if value else "0"
        return str(value)

    # -- REDCap -> Activity ----------------------------------------------------------------
    def to_record(self, row: Mapping[str, str]) -> dict[str, Any]:
        """The Activity mapping of one raw export row (for ``Tracker.record_many``).

        Never raises: an unreadable value is passed on as it is, so that validation names
        the field; an unknown column becomes an unknown field for the same reason.
        """
        rec: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        refs: dict[str, Any] = {}
        used: set[str] = {f"{self.form}_complete", *SYSTEM_COLUMNS}
        for v in self.variables:
            if v.type == "checkbox":
                names = {f"{v.name}___{raw}": code for raw, code, _ in v.choices}
                used.update(names)
                picked = []
                for col, code in names.items():
                    cell = (row.get(col) or "").strip()
                    flag = CHECKED.get(cell.casefold())
                    if flag is None:
                        picked.append(cell)  # neither checked nor unchecked: let validation say
                    elif flag:
                        picked.append(code)
                if picked:
                    rec[v.field] = picked
                continue
            used.add(v.name)
            cell = (row.get(v.name) or "").strip()
            if v.field == "note":
                cell = row.get(v.name) or ""  # a note keeps its own spacing
            if cell == "":
                continue
            value = self._value(v, cell)
            if v.field.startswith("extra."):
                extra[v.field[6:]] = value
            elif v.field.startswith("ref."):
                refs[v.field[4:]] = value
            else:
                rec[v.field] = value
        for col in row:
            if col not in used and col is not None and (row.get(col) or "").strip():
                rec[col] = row[col]  # an unknown column: validation reports it by name
        if extra:
            rec["extra"] = extra
        if refs:
            rec["referrals"] = refs
        return rec

    def _value(self, v: Variable, cell: str) -> Any:
        if v.choices:
            for raw, code, label in v.choices:
                if cell == raw or _norm(cell) == _norm(label):
                    return code
            return cell
        if v.type == "yesno":
            flag = YES_NO.get(cell.casefold())
            return cell if flag is None else flag
        if v.field.startswith("extra."):
            spec = self.profile.fields.get(v.field[6:])
            if spec is not None and spec.type in ("count", "minutes") and _is_int(cell):
                return int(cell)
            if spec is not None and spec.type == "hours":
                try:
                    return float(cell)
                except ValueError:
                    return cell
        return cell

    def to_activity(self, row: Mapping[str, str]) -> it.Activity:
        """One row as an Activity (``ValidationError`` if unreadable; not profile-checked)."""
        return it.Activity.from_dict(self.to_record(row))


def _is_int(s: str) -> bool:
    return s.lstrip("-").isdigit()


def _everything(profile: it.Profile) -> it.Profile:
    """The profile with no kind forbidding anything: every possible variable is known."""
    kinds = {k: attrs.evolve(s, forbidden=()) for k, s in profile.kinds.items()}
    return attrs.evolve(profile, kinds=kinds)


def read_csv(mapping: RedcapMapping, source: str | Path | TextIO) -> Iterator[dict[str, Any]]:
    """Activity mappings from a REDCap raw CSV export, one per row, in order."""
    if isinstance(source, str | Path):
        with open(source, encoding="utf-8-sig", newline="") as f:
            yield from read_csv(mapping, f)
        return
    for row in csv.DictReader(source):
        yield mapping.to_record(row)


def write_csv(mapping: RedcapMapping, activities: Iterable[it.Activity], out: TextIO) -> int:
    """Write activities as a REDCap raw CSV export (importable with the data import tool)."""
    w = csv.DictWriter(out, fieldnames=mapping.columns, lineterminator="\n")
    w.writeheader()
    n = 0
    for a in activities:
        w.writerow(mapping.to_row(a))
        n += 1
    return n
