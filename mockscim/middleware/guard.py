"""The last line of defence: any unexpected exception becomes the catalogue's 500, never a traceback on the wire."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.http.context import state_of
from mockscim.http.errors import Problem, answer
from mockscim.scim.errors import InternalError
from mockscim.surfaces import Surface

log = logging.getLogger("mockscim")


CLIENT_CLOSED = 499
"""The status a request whose client went away before its body was complete is journaled with (nginx's "client
closed request"; nothing is sent: there is nobody to send it to)."""

_INTERNAL = Problem.of(InternalError())
_INTERNAL_SECRET_SERVER = Problem(500, InternalError.template, code="InternalServerError")


def _internal_error(scope: Scope) -> Response:
    """The 500 in the body shape of the surface that failed (docs/behaviour.md §7: the catalogue governs SCIM bodies
    only; the Secret Server API names it ``InternalServerError``)."""
    surface = state_of(scope).target.surface
    return answer(scope, _INTERNAL_SECRET_SERVER if surface is Surface.SECRET_SERVER else _INTERNAL)


class GuardMiddleware:
    """Catches what escapes the app, logs its traceback, answers ``500 Internal Server Error.`` (docs/behaviour.md §7).

    Every caught exception is also kept in ``errors`` so the pytest plugin can fail the test that caused it.
    """

    def __init__(self, app: ASGIApp, *, errors: list[BaseException]) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            # The client closed the connection mid-body (docs/behaviour.md §12): not an error of the server, so no
            # traceback, no 500, nothing for the pytest plugin to fail a test with; journaled as 499.
            state = state_of(scope)
            state.status, state.detail = CLIENT_CLOSED, "the client closed the connection before its body was complete"
        except Exception as exc:
            log.exception("unhandled exception in %s %s", scope.get("method"), scope.get("path"))
            self.errors.append(exc)
            if not state_of(scope).started:  # the journal layer, outside, saw the response start (or not)
                await _internal_error(scope)(scope, receive, send)
