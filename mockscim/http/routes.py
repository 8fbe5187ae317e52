"""Routes whose endpoints run as plain ASGI apps: one request object, no second exception-handling wrapper."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class Endpoint:
    """``async def handler(request) -> Response`` as an ASGI app.

    Starlette wraps a function endpoint in an exception-handling layer of its own (``request_response``). An
    exception raised here goes to :class:`~mockscim.http.errors.RenderErrors` around the router instead, which
    renders it the same way (``EXCEPTION_HANDLERS``, one renderer per surface): one layer, one closure and one
    request object fewer on every request.
    """

    __slots__ = ("handler",)

    def __init__(self, handler: Handler) -> None:
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"{handler!r} is not an async function")  # a sync one would block the event loop
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive, send))
        await response(scope, receive, send)


def route(path: str, handler: Handler, methods: Collection[str]) -> Route:
    """A route to ``handler`` for ``methods`` (HEAD with GET, as Starlette adds it), named after the handler."""
    return Route(path, Endpoint(handler), methods=list(methods), name=handler.__name__)


__all__ = ["Endpoint", "route"]
