"""Bearer tokens mapped to roles, read from a TOML or JSON file.

The file lists one entry per token::

    [[tokens]]
    token = "c7f3a-2b9d…"       # or token_sha256 = "<hex digest>" (keeps the secret out)
    role = "consultant"         # consultant | program | state | analyst
    id = "c-7f3a"               # the consultant, program or analyst id (not for state)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

ROLES = ("consultant", "program", "state", "analyst")


class TokenConfigError(ValueError):
    """The token file is malformed: the message names the entry and what to fix."""


@attrs.frozen(slots=True)
class Principal:
    """Who a token speaks for: a role and, except for the state, an id."""

    role: str
    id: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.role not in ROLES:
            raise TokenConfigError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}")
        if self.role != "state" and not self.id:
            raise TokenConfigError(f"a {self.role} token needs an 'id'")


@attrs.frozen(slots=True)
class TokenTable:
    """Token digests -> principals; lookups compare digests in constant time."""

    entries: tuple[tuple[bytes, Principal], ...]

    @classmethod
    def of(cls, tokens: Mapping[str, Principal] | TokenTable) -> TokenTable:
        if isinstance(tokens, TokenTable):
            return tokens
        return cls(tuple((_digest(t), p) for t, p in tokens.items()))

    def find(self, token: str) -> Principal | None:
        digest = _digest(token)
        found = None
        for known, principal in self.entries:  # no early exit: timing says nothing
            if hmac.compare_digest(known, digest):
                found = principal
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def load_tokens(path: str | Path) -> TokenTable:
    """Read a token file (``.toml`` or ``.json``); raise :class:`TokenConfigError` if malformed."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        data: Any = json.loads(text) if p.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise TokenConfigError(f"{p}: cannot be read: {exc}") from None
    entries = data.get("tokens") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise TokenConfigError(f"{p}: needs a non-empty list 'tokens' ([[tokens]] in TOML)")
    return TokenTable(tuple(_entries(entries, p)))


def _entries(entries: Iterable[Any], p: Path) -> Iterable[tuple[bytes, Principal]]:
    seen: set[bytes] = set()
    for n, e in enumerate(entries, 1):
        if not isinstance(e, Mapping):
            raise TokenConfigError(f"{p}: token entry {n} must be a table")
        try:
            principal = Principal(str(e.get("role")), e.get("id"))
        except TokenConfigError as exc:
            raise TokenConfigError(f"{p}: token entry {n}: {exc}") from None
        if isinstance(e.get("token"), str) and len(e["token"]) >= 16:
            digest = _digest(e["token"])
        elif isinstance(e.get("token_sha256"), str):
            try:
                digest = bytes.fromhex(e["token_sha256"])
            except ValueError:
                raise TokenConfigError(f"{p}: token entry {n}: token_sha256 is not hex") from None
        else:
            raise TokenConfigError(
                f"{p}: token entry {n} needs 'token' (at least 16 characters) or 'token_sha256'"
            )
        if digest in seen:
            raise TokenConfigError(f"{p}: token entry {n} repeats an earlier token")
        seen.add(digest)
        yield digest, principal
