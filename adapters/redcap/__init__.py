"""REDCap ⇄ Activity: a generated data dictionary per profile, and a mapping of REDCap's raw
CSV export (checkboxes, radio/dropdown codes, yes/no, dates) onto activities, both ways.

``data_dictionary(profile)`` gives the instrument a state imports into REDCap;
``RedcapMapping.generated(profile)`` or ``RedcapMapping.from_dictionary_csv(profile, path)``
maps rows; ``read_csv``/``write_csv`` move whole exports.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "COLUMNS": "dictionary",
    "FORM": "dictionary",
    "data_dictionary": "dictionary",
    "write_dictionary": "dictionary",
    "RedcapMapping": "mapping",
    "read_csv": "mapping",
    "write_csv": "mapping",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    # lazy, so that ``python -m adapters.redcap.dictionary`` imports that module only once
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
