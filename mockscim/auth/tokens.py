"""Bearer tokens (docs/behaviour.md §2): the static token, OAuth access and refresh tokens, expiry with grace."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    """An issued access token: whose it is, which scope, when it expires (monotonic seconds)."""

    user_name: str
    scope: str
    expires_at: float


@dataclass(frozen=True)
class Issued:
    """What a token endpoint returns."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


class TokenRegistry:
    """Issues and checks tokens. Refresh tokens never expire while the server runs, and are single-use
    (docs/behaviour.md §2)."""

    def __init__(self, *, static_token: str, ttl: int, grace: int, clock: Callable[[], float] | None = None):
        self.static_token = static_token
        self.ttl = ttl
        self.grace = grace
        self._clock = clock or (lambda: time.monotonic())
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, tuple[str, str]] = {}

    def issue(self, user_name: str, scope: str) -> Issued:
        """A new access + refresh token pair for ``user_name``."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._access[access] = Grant(user_name, scope, self._clock() + self.ttl)
            self._refresh[refresh] = (user_name, scope)
        return Issued(access, refresh, self.ttl, scope)

    def refresh(self, refresh_token: str, client_id: str | None) -> Issued | None:
        """Trade a refresh token for a new pair; ``None`` when unknown, used, or for another client (left valid)."""
        with self._lock:
            entry = self._refresh.get(refresh_token)
            if entry is None or (client_id is not None and client_id != entry[0]):
                return None
            del self._refresh[refresh_token]
        return self.issue(*entry)

    def resolve(self, token: str) -> tuple[str, str | None] | None:
        """``("static", None)`` for the static token, ``("oauth", user_name)`` for a live OAuth token, else ``None``.

        A token is live until ``expires_at + grace`` (``--token-grace``: Delinea's SDK 2.0.1 reuses a token up to
        300 s past ``expires_in``).
        """
        if token == self.static_token:
            return ("static", None)
        grant = self._access.get(token)
        if grant is None or self._clock() > grant.expires_at + self.grace:
            return None
        return ("oauth", grant.user_name)

    def expire(self, token: str) -> None:
        """Invalidate one OAuth token (a scenario's ``token: expire``); the static token never expires."""
        with self._lock:
            self._access.pop(token, None)

    def forget_user(self, user_name: str) -> None:
        """Drop every token of a service user whose User was deleted (docs/behaviour.md §13)."""
        low = user_name.lower()
        with self._lock:
            self._access = {t: g for t, g in self._access.items() if g.user_name.lower() != low}
            self._refresh = {t: e for t, e in self._refresh.items() if e[0].lower() != low}

    def _prune(self) -> None:
        """Forget access tokens past expiry and grace, so memory stays flat however many tokens are issued."""
        if len(self._access) < 1024:
            return
        now = self._clock()
        self._access = {t: g for t, g in self._access.items() if now <= g.expires_at + self.grace}
