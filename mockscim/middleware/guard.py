"""The last line of defence: any unexpected exception becomes the catalogue's 500, never a traceback on the wire."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim.errors import InternalError
from mockscim.http import scim_error_response

log = logging.getLogger("mockscim")


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
                await scim_error_response(InternalError(), scope)(scope, receive, send)
