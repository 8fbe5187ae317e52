"""Error bodies, one renderer per surface (docs/behaviour.md §7): a :class:`Problem` becomes that surface's body.

Endpoints raise (a SCIM :class:`~mockscim.scim.errors.ScimError`, or a surface's own :class:`SurfaceError`) and
middleware that must answer early (401, a scenario's error, the last-resort 500) builds a :class:`Problem`; either
way the body is written here and only here, in the shape of the surface the request addressed:

- SCIM: RFC 7644 §3.12 (``{"schemas", "status", "scimType", "detail"}``, ``status`` a string);
- token endpoints: RFC 6749 §5.2 (``{"error", "error_description"}``);
- Secret Server API: ``{"errorCode", "message"}`` (``message`` always a string: Delinea's SDK reads it);
- control plane: ``{"error": "…"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.http.context import state_of
from mockscim.http.responses import JsonResponse
from mockscim.scim.errors import (
    InsufficientStorage,
    InternalError,
    MethodNotAllowed,
    NotFound,
    ScimError,
    error_body,
)
from mockscim.store.durable import WriteFailed
from mockscim.surfaces import SCIM_ROOT, Surface

__all__ = [
    "EXCEPTION_HANDLERS",
    "ControlError",
    "Problem",
    "RenderErrors",
    "SecretServerError",
    "SurfaceError",
    "TokenError",
    "answer",
    "render",
]

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Problem:
    """An error to answer, before it has a surface's shape.

    ``key`` is the catalogue key (docs/behaviour.md §7: ``internal_error``, ``service_unavailable``…) when there is
    one; ``code`` is the surface's own code when the raiser knows it (``API_AccessDenied``, ``invalid_grant``).
    """

    status: int
    detail: str
    key: str | None = None
    code: str | None = None
    scim_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, err: ScimError) -> Problem:
        """A SCIM catalogue error as a problem (a scenario may answer one on any surface)."""
        return cls(err.status, err.detail, key=err.key, scim_type=err.scim_type, headers=err.headers)


class SurfaceError(Exception):
    """An error a surface's package raises (each surface subclasses it once, naming itself); it is answered in the
    body shape of that surface, whichever path raised it (``POST /oauth2/token`` with Secret Server down answers
    the Secret Server's 503)."""

    surface: ClassVar[Surface]

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class TokenError(SurfaceError):
    """An RFC 6749 §5.2 error of a token endpoint (``invalid_client``, ``invalid_grant``…)."""

    surface = Surface.TOKEN

    def __init__(self, code: str, description: str, *, status: int = 400,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(Problem(status, description, code=code,
                                 headers={**(headers or {}), "Cache-Control": "no-store"}))


class SecretServerError(SurfaceError):
    """A Secret Server API error: ``{"errorCode", "message"}`` (docs/behaviour.md §8, §9)."""

    surface = Surface.SECRET_SERVER

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(Problem(status, message, code=code))


class ControlError(SurfaceError):
    """A control-plane error: ``{"error": "…"}`` (docs/behaviour.md §12)."""

    surface = Surface.CONTROL

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(Problem(status, message, headers=headers or _NO_HEADERS))


class ScimErrorResponse(JsonResponse):
    """RFC 7644 §3.1: SCIM answers, errors included, are ``application/scim+json``."""

    media_type = "application/scim+json"


def _scim(problem: Problem) -> Response:
    return ScimErrorResponse(error_body(problem.status, problem.detail, problem.scim_type),
                             status_code=problem.status, headers=dict(problem.headers))


def _token(problem: Problem) -> Response:
    code = problem.code
    if code is None:
        # A catalogue key is an RFC 6749 code only where §5.2 has one; otherwise the status says which.
        code = problem.key if problem.key and problem.status == 400 else (
            "temporarily_unavailable" if problem.status == 503 else "server_error")
    return JsonResponse({"error": code, "error_description": problem.detail}, status_code=problem.status,
                        headers=dict(problem.headers))


def _secret_server(problem: Problem) -> Response:
    code = problem.code or "".join(part.capitalize() for part in (problem.key or "scenario_error").split("_"))
    return JsonResponse({"errorCode": code, "message": problem.detail}, status_code=problem.status,
                        headers=dict(problem.headers))


def _control(problem: Problem) -> Response:
    return JsonResponse({"error": problem.detail}, status_code=problem.status, headers=dict(problem.headers))


_RENDERERS: Mapping[Surface, Callable[[Problem], Response]] = MappingProxyType({
    Surface.SCIM: _scim,
    Surface.TOKEN: _token,
    Surface.SECRET_SERVER: _secret_server,
    Surface.CONTROL: _control,
})


def render(surface: Surface, problem: Problem) -> Response:
    """``problem`` in the body shape of ``surface``. A status that carries no content (1xx, 204, 304: RFC 9110)
    gets none."""
    if problem.status < 200 or problem.status in (204, 304):
        return Response(status_code=problem.status, headers=dict(problem.headers))
    return _RENDERERS[surface](problem)


def answer(scope: Scope, problem: Problem, surface: Surface | None = None) -> Response:
    """The one way an error reaches the wire: rendered for ``surface`` (by default the request's), its ``scimType``
    and ``detail`` kept for the journal (docs/behaviour.md §12)."""
    state = state_of(scope)
    state.scim_type, state.detail = problem.scim_type, problem.detail
    return render(surface or state.target.surface, problem)


async def _on_scim_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ScimError)
    return answer(request.scope, Problem.of(exc))


async def _on_surface_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SurfaceError)
    return answer(request.scope, exc.problem, exc.surface)


async def _on_write_failed(request: Request, exc: Exception) -> Response:
    """A write the store's disk refused (docs/behaviour.md §13): 507 from the catalogue, on whichever surface wrote;
    the store has undone it and logged one line naming the file."""
    return answer(request.scope, Problem.of(InsufficientStorage()))


_ROUTING_TEXT = {404: "Not found.", 405: "Method not allowed."}


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (no route, or not that method): a SCIM error under the SCIM root (docs/behaviour.md §1, §7),
    the control plane's ``{"error"}`` under it, and elsewhere the root's plain ``{"message"}``, which is what the
    Secret Server answers for a path it does not serve."""
    assert isinstance(exc, HTTPException)
    scope = request.scope
    surface = state_of(scope).target.surface
    if surface is Surface.SCIM:
        if exc.status_code == 405:
            allow = tuple((exc.headers or {}).get("Allow", "").split(", "))
            return answer(scope, Problem.of(MethodNotAllowed(allow=allow)))
        if exc.status_code == 404:
            return answer(scope, Problem.of(NotFound(scope["path"].removeprefix(SCIM_ROOT).lstrip("/"))))
        return answer(scope, Problem.of(InternalError()))
    text = _ROUTING_TEXT.get(exc.status_code, str(exc.detail))
    if surface is Surface.CONTROL:
        return answer(scope, Problem(exc.status_code, text, headers=exc.headers or _NO_HEADERS))
    state_of(scope).detail = text
    return JsonResponse({"message": text}, status_code=exc.status_code, headers=exc.headers)


EXCEPTION_HANDLERS = MappingProxyType({
    ScimError: _on_scim_error,
    SurfaceError: _on_surface_error,
    HTTPException: _on_http_error,
    WriteFailed: _on_write_failed,
})
"""The app's exception handlers: raise anywhere in an endpoint, rendered here (Starlette's model)."""


Handler = Callable[[Request, Exception], Awaitable[Response]]


class RenderErrors:
    """Around the router: an exception the app raised that ``handlers`` knows (by its class or a base class) becomes
    the response its handler renders; any other goes on up, to the guard's 500 (docs/behaviour.md §7).

    What Starlette's ``ExceptionMiddleware`` does, without wrapping ``send`` or building a request for every
    request: whether the response started is in the request state (the journal layer sets it), and a request
    object is made only for an error.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[type[Exception], Handler] = EXCEPTION_HANDLERS) -> None:
        self.app = app
        self.handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = next((self.handlers[c] for c in type(exc).__mro__ if c in self.handlers), None)
            if handler is None or scope["type"] != "http":
                raise
            if state_of(scope).started:  # half a response is on the wire: the guard logs it, nothing more is sent
                raise RuntimeError("an error was raised after the response started") from exc
            response = await handler(Request(scope, receive, send), exc)
            await response(scope, receive, send)
