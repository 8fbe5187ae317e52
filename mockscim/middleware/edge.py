"""The edge: the on-prem Secret Server prefix, and the Host allow-list (docs/behaviour.md §12, §14)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.http.context import state_of
from mockscim.http.errors import Problem, answer
from mockscim.http.hosts import Hosts
from mockscim.middleware.crosssite import cross_site_refusal
from mockscim.surfaces import Surface, on_prem_prefix

_CODES = {Surface.TOKEN: "invalid_request", Surface.SECRET_SERVER: "BadRequest"}  # RFC 6749 §5.2; Secret Server's


class PrefixMiddleware:
    """``--secret-server-path /SecretServer``: a Secret Server path below the prefix gets the prefix as its
    ``root_path`` (ASGI), so the routes match and the vault URL keeps the prefix; outermost, before the request is
    classified. Never raises."""

    def __init__(self, app: ASGIApp, *, prefix: str | None) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.prefix:
            found = on_prem_prefix(scope["path"], self.prefix)
            if found is not None:
                scope = {**scope, "root_path": scope.get("root_path", "") + found}
        await self.app(scope, receive, send)


class HostMiddleware:
    """Who may reach the server at all, before anything reads the request (docs/behaviour.md §12, §14): a ``Host`` (or
    trusted ``X-Forwarded-Host``) it does not answer to → 400 in the surface's shape, 403 on the control plane; and on
    the control plane, a request a web page could make (:func:`~mockscim.middleware.crosssite.cross_site_refusal`:
    a foreign ``Origin`` → 403, a form-typed write → 415). Nothing changed; never raises."""

    def __init__(self, app: ASGIApp, *, hosts: Hosts) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = self.hosts.refused(scope)
            surface = state_of(scope).target.surface
            problem = None
            if host is not None:
                detail = (f"Host {host!r} is not a name this server answers to (localhost, 127.0.0.1, ::1, the "
                          "--host it binds, the --public-url host).")
                problem = Problem(403 if surface is Surface.CONTROL else 400, detail, code=_CODES.get(surface))
            elif surface is Surface.CONTROL:
                problem = cross_site_refusal(scope)
            if problem is not None:
                await answer(scope, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
