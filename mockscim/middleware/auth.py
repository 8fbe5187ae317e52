"""Bearer authentication (docs/behaviour.md §2) for SCIM, and the admin token for the control plane (§12)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.http.context import bearer, state_of
from mockscim.http.errors import Problem, answer
from mockscim.scim.errors import Unauthenticated
from mockscim.surfaces import CONTROL_ROOT, Surface

_HEALTH = CONTROL_ROOT + "/health"
def _open(scope: Scope) -> bool:
    """Health, and the dashboard page itself (no data: it asks for the token, docs/behaviour.md §12)."""
    path = scope["path"].rstrip("/")
    return path == _HEALTH or (path == CONTROL_ROOT and scope["method"] in ("GET", "HEAD"))


_ADMIN_REQUIRED = Problem(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})


class AuthMiddleware:
    """Answers 401 before anything else (docs/behaviour.md §4 precedence 1): a SCIM request whose token stands for
    nobody, a control-plane call without the admin token. The caller was resolved once, by RequestMiddleware."""

    def __init__(self, app: ASGIApp, *, admin_token: str | None) -> None:
        self.app = app
        self.admin_token = admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = state_of(scope)
        surface = state.target.surface
        if surface is Surface.SCIM:
            if state.principal is None:
                await answer(scope, Problem.of(Unauthenticated()))(scope, receive, send)
                return
        elif surface is Surface.CONTROL and self.admin_token and not _open(scope):
            if bearer(scope) != self.admin_token:
                await answer(scope, _ADMIN_REQUIRED)(scope, receive, send)
                return
        await self.app(scope, receive, send)
