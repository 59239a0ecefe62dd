"""Choose the libphonenumber leniency of the note screen by measurement.

    PYTHONPATH=src python benchmarks/phone_leniency.py

Phone numbers: random valid US numbers (libphonenumber's own validity, random area codes and
lines) written in ten ways people write them. Non-phones: ten-digit runs a note may hold that are no
phone number (dates run together, IDs, counts with separators). Prints, per leniency, the
share of phone numbers found and of non-phones flagged. The non-phones are built to fail
libphonenumber's validity (area or exchange codes that no number has), so they show what a
leniency lets through, not how often notes hold such runs.
"""

from __future__ import annotations

import random

import phonenumbers

import iecmhc_tracker._pii as pii

FORMATS = (
    "({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a} {b} {c}", "{a}{b}{c}", "+1 {a} {b} {c}",
    "{a}-{b}{c}", "({a}){b}-{c}", "{a} {b}-{c}", "1-{a}-{b}-{c}",
)  # fmt: skip


def phones(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        number = phonenumbers.parse(f"+1{a}{b}{c:04d}")
        if phonenumbers.is_valid_number(number):
            fmt = rng.choice(FORMATS)
            out.append(f"Call mom at {fmt.format(a=a, b=b, c=f'{c:04d}')} after 5.")
    return out


def non_phones(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        r = rng.randint
        kind = rng.randrange(4)
        if kind == 0:
            out.append(f"Dates 20{r(10, 30)}{r(1, 12):02d}{r(1, 28):02d}{r(0, 23):02d}")
        elif kind == 1:
            out.append(f"Grant award {r(1000000000, 1999999999)} renewed.")
        elif kind == 2:
            out.append(f"Hours {r(100, 199)}-{r(100, 999)}-{r(1000, 9999)}")
        else:
            out.append(f"Counts 0{r(10, 99)} {r(0, 99):03d} {r(0, 9999):04d}")
    return out


def main() -> None:
    rng = random.Random(7)
    real, fake = phones(rng, 1000), non_phones(rng, 1000)
    print("| leniency | phone numbers found | non-phones flagged |\n| --- | --- | --- |")
    for name in ("POSSIBLE", "VALID", "STRICT_GROUPING", "EXACT_GROUPING"):
        pii.PHONE_LENIENCY = getattr(phonenumbers.Leniency, name)
        found = sum(bool(list(pii._phone(t, frozenset({"en"})))) for t in real)
        flagged = sum(bool(list(pii._phone(t, frozenset({"en"})))) for t in fake)
        print(f"| {name} | {found / len(real):.1%} | {flagged / len(fake):.1%} |")


if __name__ == "__main__":
    main()
