"""Who calls (docs/behaviour.md §2, §9), resolved once per request; bearer authentication for SCIM and the admin token
for the control plane (§12)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.auth import Principal
from mockscim.core import Core
from mockscim.http.context import RequestState, bearer, state_of
from mockscim.http.errors import Problem, answer
from mockscim.scim.errors import Unauthenticated
from mockscim.surfaces import CONTROL_ROOT, Surface

_HEALTH = CONTROL_ROOT + "/health"
def _open(scope: Scope) -> bool:
    """Health, and the dashboard page itself (no data: it asks for the token, docs/behaviour.md §12)."""
    path = scope["path"].rstrip("/")
    return path == _HEALTH or (path == CONTROL_ROOT and scope["method"] in ("GET", "HEAD"))


def resolve_caller(state: RequestState, scope: Scope, core: Core) -> Principal | None:
    """The principal the bearer token of a SCIM or Secret Server API request stands for, resolved on first use and
    kept in the request state (docs/behaviour.md §2, §9): the scenario engine (FaultsMiddleware, before
    authentication, so that a ``token: expire`` request meets its own 401), authentication, the endpoints and the
    journal all read the one answer."""
    if state.resolved:
        return state.principal
    state.resolved = True
    surface = state.target.surface
    if surface is Surface.SCIM or surface is Surface.SECRET_SERVER:
        token = bearer(scope)
        if token is not None:
            state.token = token
            # docs/behaviour.md §9: on the Secret Server API a password-grant User is a caller too.
            state.principal = core.authenticate(token, users=surface is Surface.SECRET_SERVER)
    return state.principal


_ADMIN_REQUIRED = Problem(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})


class AuthMiddleware:
    """Resolves the caller of a SCIM or Secret Server API request (:func:`resolve_caller`) and answers 401 before
    anything else (docs/behaviour.md §4 precedence 1) when a SCIM request's token stands for nobody, or a
    control-plane call comes without the admin token. Refusing a Secret Server API call is the API's own business
    (its 401 body)."""

    def __init__(self, app: ASGIApp, *, core: Core, admin_token: str | None) -> None:
        self.app = app
        self.core = core
        self.admin_token = admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = state_of(scope)
        surface = state.target.surface
        if surface is Surface.SCIM:
            if resolve_caller(state, scope, self.core) is None:
                await answer(scope, Problem.of(Unauthenticated()))(scope, receive, send)
                return
        elif surface is Surface.SECRET_SERVER:
            resolve_caller(state, scope, self.core)
        elif surface is Surface.CONTROL and self.admin_token and not _open(scope):
            if bearer(scope) != self.admin_token:
                await answer(scope, _ADMIN_REQUIRED)(scope, receive, send)
                return
        await self.app(scope, receive, send)
