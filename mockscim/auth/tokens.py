"""Bearer tokens (docs/behaviour.md §2): the static token, OAuth tokens bound to a principal's id, expiry with grace."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Owner = Callable[[str], str | None]
"""userName → the principal it names now, as a key that holds its id (``"su:<id>"`` for a service user,
``"user:<id>"`` for a User of the password grant), or ``None``: a token belongs to that key, not to the name."""


@dataclass(frozen=True)
class Grant:
    """An issued access token: whose it is (name, and the principal key it was issued to), which scope, when it
    expires (monotonic seconds)."""

    user_name: str
    owner: str | None
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
        self._refresh: dict[str, tuple[str, str | None, str]] = {}
        self.owner_of: Owner | None = None
        """Set by the core: who a name stands for now (docs/behaviour.md §2). Unset, tokens are bound to names."""

    def _owner(self, user_name: str) -> str | None:
        return self.owner_of(user_name) if self.owner_of is not None else user_name.lower()

    def issue(self, user_name: str, scope: str) -> Issued:
        """A new access + refresh token pair for ``user_name``, bound to the principal that name stands for now."""
        return self._issue(user_name, self._owner(user_name), scope)

    def _issue(self, user_name: str, owner: str | None, scope: str) -> Issued:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._access[access] = Grant(user_name, owner, scope, self._clock() + self.ttl)
            self._refresh[refresh] = (user_name, owner, scope)
        return Issued(access, refresh, self.ttl, scope)

    def refresh(self, refresh_token: str, client_id: str | None) -> Issued | None:
        """Trade a refresh token for a new pair; ``None`` when unknown, used, for another client (left valid), or
        when its principal is gone (dropped: docs/behaviour.md §2, a token never works again)."""
        with self._lock:
            entry = self._refresh.get(refresh_token)
            if entry is None or (client_id is not None and client_id != entry[0]):
                return None
        user_name, owner, scope = entry
        alive = owner is not None and self._owner(user_name) == owner
        with self._lock:
            if self._refresh.pop(refresh_token, None) is None or not alive:
                return None
        return self._issue(user_name, owner, scope)

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
        if grant.owner is None or self._owner(grant.user_name) != grant.owner:
            self.expire(token)  # its principal is gone (or another one has its name): never again
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

    def forget_owner(self, owner: str) -> None:
        """Drop every token of one principal (its User was deleted, docs/behaviour.md §2)."""
        with self._lock:
            self._access = {t: g for t, g in self._access.items() if g.owner != owner}
            self._refresh = {t: e for t, e in self._refresh.items() if e[1] != owner}

    def purge(self) -> None:
        """Drop every token whose principal is no longer the one its name stands for (after a state import or a
        reset, docs/behaviour.md §2): a later import that brings the principal back does not revive them."""
        with self._lock:
            access, refresh = dict(self._access), dict(self._refresh)
        names = {g.user_name for g in access.values()} | {e[0] for e in refresh.values()}
        now = {name: self._owner(name) for name in names}
        with self._lock:
            self._access = {t: g for t, g in self._access.items() if g.owner is not None and
                            now.get(g.user_name, g.owner) == g.owner}
            self._refresh = {t: e for t, e in self._refresh.items() if e[1] is not None and
                             now.get(e[0], e[1]) == e[1]}

    def _prune(self) -> None:
        """Forget access tokens past expiry and grace, so memory stays flat however many tokens are issued."""
        if len(self._access) < 1024:
            return
        now = self._clock()
        self._access = {t: g for t, g in self._access.items() if now <= g.expires_at + self.grace}
