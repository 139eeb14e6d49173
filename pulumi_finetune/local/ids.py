"""Identifiers: random for objects clients create, stable for objects the lifecycle derives."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh random id such as ``ftjob-AbC...``; ``prefix`` includes its separator."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def stable_id(prefix: str, *parts: object, length: int = 24) -> str:
    """The same id every time for the same parts, so re-deriving an object never duplicates it."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return prefix + "".join(chars)


def request_id() -> str:
    """An ``x-request-id`` value: ``req_`` and 32 hex digits."""
    return "req_" + secrets.token_hex(16)
