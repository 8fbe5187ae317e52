"""Bearer authentication (SPEC §2) for SCIM, and the admin token for the control plane (SPEC §12)."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.context import state_of
from mockscim.core import Core
from mockscim.errors import Unauthenticated
from mockscim.http import scim_error_response
from mockscim.tokens import TokenRegistry


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


class AuthMiddleware:
    """Answers 401 on SCIM routes without a live token before anything else (SPEC §4 precedence 1)."""

    def __init__(self, app: ASGIApp, *, core: Core, tokens: TokenRegistry, admin_token: str | None) -> None:
        self.app = app
        self.core = core
        self.tokens = tokens
        self.admin_token = admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/scim/v2"):
            token = bearer(scope)
            resolved = self.tokens.resolve(token) if token else None
            principal = None
            if resolved is not None:
                principal = self.core.principal(resolved[1])
            if principal is None:
                await scim_error_response(Unauthenticated(), scope)(scope, receive, send)
                return
            state = state_of(scope)
            state.principal, state.token = principal, token
        elif path.startswith("/_mockscim") and self.admin_token and path.rstrip("/") != "/_mockscim/health":
            if bearer(scope) != self.admin_token:
                response = JSONResponse({"error": "admin token required"}, status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
