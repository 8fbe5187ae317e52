"""Who calls (docs/behaviour.md §2): the principal a token or a password grant stands for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who calls: a service user (docs/behaviour.md §2); both fields ``None`` for the static token with no service
    user."""

    user_name: str | None = None
    user_id: str | None = None


ANONYMOUS = Principal()
