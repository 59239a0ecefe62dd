"""The Store contract's profile stamp, as tests: part of :mod:`iecmhc_tracker.stores.testing`
(which imports them), kept apart to keep each module to one size. Needs pytest."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .contract import Store


# -- profile stamp ---------------------------------------------------------------------------
def _stamp(name: str, text: str) -> dict[str, str]:
    return {"name": name, "version": "1", "digest": name[0] * 64, "source": name, "text": text}


def test_the_profile_stamp_is_written_once_and_kept(
    store: Store, reopen_store: Callable[[], Store] | None
) -> None:
    assert store.profile_stamp() is None
    # a profile's text runs to tens of KiB, with accents
    text = "# Doña Ana\n" + "x" * 70_000
    first = store.stamp_profile(_stamp("arizona", text))
    assert {k: first[k] for k in ("name", "version", "digest", "source")} == {
        "name": "arizona",
        "version": "1",
        "digest": "a" * 64,
        "source": "arizona",
    }
    assert first["text"] == text and first["at"].tzinfo is not None
    # a second opener's stamp is not written: it gets the one the store holds
    held = store.stamp_profile(_stamp("montana", "m"))
    assert held["name"] == "arizona" and held["text"] == text
    assert store.data_version() == 0  # the stamp is no data
    if reopen_store is not None:
        again = reopen_store()
        stamp = again.profile_stamp()
        assert stamp is not None and stamp["name"] == "arizona" and stamp["text"] == text
        again.close()


def test_the_profile_stamp_is_replaced_only_on_purpose(store: Store) -> None:
    store.stamp_profile(_stamp("arizona", "a"))
    replaced = store.stamp_profile(_stamp("montana", "m"), replace=True)
    assert replaced["name"] == "montana"
    stamp = store.profile_stamp()
    assert stamp is not None and (stamp["name"], stamp["text"]) == ("montana", "m")


def test_first_openers_racing_agree_on_one_profile_stamp(store: Store) -> None:
    names = [f"state_{i}" for i in range(6)]
    with ThreadPoolExecutor(len(names)) as pool:
        got = list(pool.map(lambda n: store.stamp_profile(_stamp(n, n)), names))
    held = store.profile_stamp()
    assert held is not None and held["name"] in names
    assert {g["name"] for g in got} == {held["name"]}  # every opener got the one written
