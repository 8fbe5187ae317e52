"""Stored passwords (docs/behaviour.md §3, §13): salted hashes, never clear text."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def hash_password(password: str) -> str:
    """A salted SHA-256 hash (``sha256$salt$digest``): a mock needs no slow KDF, only never to keep clear text."""
    salt = secrets.token_hex(8)
    return f"sha256${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches a ``passwordHash``."""
    if not isinstance(stored, str) or stored.count("$") != 2:  # a hash of another shape matches nothing
        return False
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(digest, hashlib.sha256((salt + password).encode()).hexdigest())
