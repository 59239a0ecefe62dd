"""``iecmhc import``: bulk CSV/JSON import with a progress bar and a rejected-row report."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._errors import StorageError, TrackerError
from .common import (
    EXIT_REFUSED,
    EXIT_USAGE,
    DbOption,
    PrefixOption,
    ProfileOption,
    console,
    fail,
    open_tracker,
)

SHOWN = 50  # rejected problems printed; the rest are counted
#: the longest CSV cell read (csv's own limit is 128 KiB); a longer value is read and then
#: refused by its field's rule, naming the row and the field
CSV_CELL_MAX = 16 * 1024 * 1024
#: bytes that are not UTF-8 are read as lone surrogates (``surrogateescape``): the field that
#: holds them is refused by the text rules, naming the row and the field
ENCODING, ERRORS = "utf-8-sig", "surrogateescape"


def _loads(text: str) -> Any:
    """JSON, with integers past Python's digit limit kept as their text (the field's rule
    refuses them) and nesting too deep for the parser refused in one line."""
    try:
        return json.loads(text, parse_int=_int)
    except RecursionError:
        raise ValueError("JSON nested too deeply (activities are flat objects)") from None


def _int(digits: str) -> int | str:
    return int(digits) if len(digits) <= 4000 else digits


def _referrals(text: str) -> dict[str, str]:
    """``"housing:2; food:1"`` -> ``{"housing": "2", "food": "1"}`` (counts checked later)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        code, _, count = part.partition(":")
        out[code.strip()] = count.strip() or "1"
    return out


def read_csv(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Records of a CSV file (header = field names, ``extra.NAME`` for extra fields) and the
    line each record starts on."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    if csv.field_size_limit() < CSV_CELL_MAX:
        csv.field_size_limit(CSV_CELL_MAX)
    with path.open(newline="", encoding=ENCODING, errors=ERRORS) as f:
        reader = csv.DictReader(f)
        start = 2
        for raw in reader:
            rec: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            for key, value in raw.items():
                if key is None:  # more cells than the header names
                    rec["(extra cells)"] = value
                    continue
                key = key.strip()
                if value is None or value.strip() == "":
                    continue
                if key.startswith("extra."):
                    extra[key[len("extra.") :]] = _extra_value(value.strip())
                elif key == "referrals":
                    rec[key] = _referrals(value)
                else:
                    rec[key] = value
            if extra:
                rec["extra"] = extra
            records.append(rec)
            lines.append(start)
            start = reader.line_num + 1
    return records, lines


def _extra_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if text.isascii() and text.lstrip("-").isdigit() and len(text) <= 18:
        return int(text)
    return text


def read_json(path: Path) -> tuple[list[Any], list[int] | None]:
    """Records of a JSON array file, or of a JSON Lines file (then with line numbers)."""
    text = path.read_text(encoding=ENCODING, errors=ERRORS)
    if path.suffix.lower() == ".jsonl":
        records, lines = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(_loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"line {n} is not JSON: {exc.msg}") from None
                except ValueError as exc:
                    raise ValueError(f"line {n}: {exc}") from None
                lines.append(n)
        return records, lines
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("activities"), list):
        data = data["activities"]
    if not isinstance(data, list):
        raise ValueError('expected a list of activities (or {"activities": [...]})')
    return data, None


def import_(
    file: Annotated[Path, typer.Argument(help="CSV (header = field names) or JSON / JSON Lines")],
    db: DbOption = None,
    table_prefix: PrefixOption = None,
    profile: ProfileOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Records per all-or-nothing batch")
    ] = 10_000,
) -> None:
    """Import activities from a file: every row validated, each batch all-or-nothing.

    Exit code 0 when everything was imported (or was already stored), 1 when rows were
    rejected (their batches are not written; the report names line, field and problem),
    2 for bad usage (no such file, unreadable file, unknown profile or database).
    """
    if not file.is_file():
        raise fail(f"no such file: {file}", EXIT_USAGE)
    suffix = file.suffix.lower()
    lines: list[int] | None
    try:
        if suffix == ".csv":
            records, lines = read_csv(file)
            where = "line"
        elif suffix in (".json", ".jsonl"):
            records, lines = read_json(file)
            where = "line" if lines is not None else "record"
        else:
            raise fail(f"{file}: use a .csv, .json or .jsonl file", EXIT_USAGE)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise fail(f"cannot read {file}: {exc}", EXIT_USAGE) from None
    tracker = open_tracker(db, profile, table_prefix, write=True)
    try:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=len(records))
            result = tracker.record_many(
                records,
                batch_size=batch_size,
                progress=lambda done: bar.update(task, completed=done),
            )
    except StorageError as exc:
        raise fail(exc, EXIT_USAGE) from None
    except TrackerError as exc:
        raise fail(exc) from None
    finally:
        tracker.close()
    written = result.inserted + result.duplicates
    console.print(
        f"{result.total:,} records read: {result.inserted:,} imported, "
        f"{result.duplicates:,} already stored, {result.total - written:,} not written",
        highlight=False,
    )
    if not result.rejected:
        return
    table = Table(
        title=f"{len(result.rejected_rows):,} rejected records (their batches are not written)"
    )
    table.add_column(where, justify="right")
    table.add_column("field")
    table.add_column("problem")
    for p in result.rejected[:SHOWN]:
        at = lines[p.row - 1] if lines is not None and p.row is not None else p.row
        table.add_row(str(at), p.field, f"{p.message} [{p.code}]")
    console.print(table)
    if len(result.rejected) > SHOWN:
        console.print(f"… and {len(result.rejected) - SHOWN:,} more problems")
    raise typer.Exit(EXIT_REFUSED)
