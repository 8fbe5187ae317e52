"""Per-request state shared by the middleware and the endpoints, kept in the ASGI scope under ``"mockscim"``."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

from mockscim.surfaces import Target, route

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal

_ids = itertools.count(1)
_prefix = os.urandom(3).hex()


@dataclass(slots=True)
class RequestState:
    """What one request carries through the stack, and what the journal records of it (docs/behaviour.md §12)."""

    request_id: str
    target: Target
    """What the request addresses (the surface map's classification, made once)."""
    principal: Principal | None = None
    token: str | None = None
    resolved: bool = False
    """Whether ``principal`` and ``token`` were resolved from the request (once, on first use)."""
    status: int = 0
    started: bool = False
    """Whether the response has started (set where it leaves the app, by the journal layer: the guard's 500 can only
    be sent before)."""
    scim_type: str | None = None
    detail: str | None = None
    rule: str | None = None
    body: Any = None
    base: str | None = None
    path: str = ""
    """The path as the client sent it (the journal's ``path``); ``scope["path"]`` is the one routed
    (:func:`~mockscim.surfaces.route`)."""


def state_of(scope: Scope) -> RequestState:
    """The request's state, created on first use: a request id that is unique and sortable within a run, and the
    request's :class:`~mockscim.surfaces.Target`. The scope's ``path`` becomes the routed one."""
    state: RequestState | None = scope.get("mockscim")
    if state is None:
        sent: str = scope["path"]
        root: str = scope.get("root_path", "")  # ASGI: `path` includes it (--secret-server-path, §14)
        below = sent[len(root):] if root and sent.startswith(root + "/") else sent
        # docs/behaviour.md §1: SCIM names in any case, no trailing-slash redirect.
        routed, target = route(scope.get("method", "GET"), below)
        scope["path"] = sent[:len(sent) - len(below)] + routed
        state = RequestState(f"{_prefix}-{next(_ids):08d}", target, path=sent)
        scope["mockscim"] = state
    return state


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower-case bytes, as ASGI gives names), read from the raw headers:
    Starlette's ``Headers.get`` builds a mapping view and scans the same list."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def bearer(scope: Scope) -> str | None:
    """The token of exactly one ``Authorization: Bearer`` header (RFC 6750 §2.1: scheme case-insensitive).

    Read from the raw ASGI headers (names arrive lower-cased, RFC 9110 §5.1): every request passes here.
    """
    values: list[bytes] = [v for k, v in scope["headers"] if k == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
