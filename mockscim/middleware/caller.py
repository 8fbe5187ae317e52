"""Who calls: each request's bearer token resolved once to a principal, for every later layer to read."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.core import Core
from mockscim.http.context import bearer, state_of
from mockscim.surfaces import Surface


class CallerMiddleware:
    """Resolves the bearer token of a SCIM or Secret Server API request to its principal, once, into the request
    state (docs/behaviour.md §2, §9) that faults, authentication, the endpoints and the journal read. It answers
    nothing itself: refusing is AuthMiddleware's (SCIM) or the Secret Server API's own (its 401 body)."""

    def __init__(self, app: ASGIApp, *, core: Core) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = state_of(scope)
            surface = state.target.surface
            if surface is Surface.SCIM or surface is Surface.SECRET_SERVER:
                token = bearer(scope)
                if token is not None:
                    state.token = token
                    # docs/behaviour.md §9: on the Secret Server API a password-grant User is a caller too.
                    state.principal = self.core.authenticate(token, users=surface is Surface.SECRET_SERVER)
        await self.app(scope, receive, send)
