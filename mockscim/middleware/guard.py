"""The last line of defence: any unexpected exception becomes the catalogue's 500, never a traceback on the wire."""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim.errors import InternalError
from mockscim.http import scim_error_response
from mockscim.scenarios import classify

log = logging.getLogger("mockscim")


def _internal_error(scope: Scope) -> Response:
    """The 500 in the body shape of the surface that failed (SPEC §7: the catalogue governs SCIM bodies only)."""
    path: str = scope.get("path", "")
    detail = InternalError.template
    if path == "/_mockscim" or path.startswith("/_mockscim/"):
        return JSONResponse({"error": detail}, status_code=500)  # SPEC §12
    resource, _ = classify(scope.get("method", "GET"), path)
    if resource == "Token":
        return JSONResponse({"error": "server_error", "error_description": detail}, status_code=500)  # RFC 6749
    if resource == "SecretServer":
        return JSONResponse({"errorCode": "InternalServerError", "message": detail}, status_code=500)  # SPEC §9
    return scim_error_response(InternalError(), scope)


class GuardMiddleware:
    """Catches what escapes the app, logs its traceback, answers ``500 Internal Server Error.`` (SPEC §7).

    Every caught exception is also kept in ``errors`` so the pytest plugin can fail the test that caused it.
    """

    def __init__(self, app: ASGIApp, *, errors: list[BaseException]) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.exception("unhandled exception in %s %s", scope.get("method"), scope.get("path"))
            self.errors.append(exc)
            if not started:
                await _internal_error(scope)(scope, receive, send)
