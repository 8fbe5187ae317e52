"""Outermost middleware: a request id on every response, and one journal entry per non-control-plane request."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim.http.context import RequestState, state_of
from mockscim.journal import Journal, RawRequest
from mockscim.journal.bodies import Capture, pack_exchange

# What the entry's metadata (user agent, credentials to redact) is built from later (docs/behaviour.md §12): those two
# headers, each cut to this, kept with the entry; the whole head is kept with the exchange, within the body budget.
_META_CAP = 8 * 1024


class JournalMiddleware:
    """Gives each request an id (``X-Request-Id``), times it, and journals it (docs/behaviour.md §12); never raises
    itself.

    An entry is written when the response completes, or when the app returns without completing it (a dropped
    connection, docs/behaviour.md §10: status 0). Control-plane requests get an id but no entry.
    """

    def __init__(self, app: ASGIApp, *, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = int(time.time() * 1000) / 1000  # the precision `time` shows: milliseconds
        started = time.perf_counter()
        state = state_of(scope)
        header = (b"x-request-id", state.request_id.encode("ascii"))
        status = 0
        complete = False
        journaled = state.target.journaled
        request_body: Capture | None = None  # made when a body comes: most requests have none
        response_body = Capture()
        response_headers: list[tuple[bytes, bytes]] = []

        async def journal_send(message: Message) -> None:
            nonlocal status, complete, response_headers
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
                status = message["status"]
                state.started = True
                response_headers = message["headers"]
            elif message["type"] == "http.response.body":
                if journaled:
                    chunk = message.get("body", b"")
                    if chunk:
                        response_body.add(chunk)
                if not message.get("more_body", False):
                    complete = True
            await send(message)

        async def journal_receive() -> Message:
            nonlocal request_body
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    if request_body is None:
                        request_body = Capture()
                    request_body.add(chunk)
            return message

        if not journaled:
            await self.app(scope, receive, journal_send)  # docs/behaviour.md §12: the control plane is not journaled
            return
        try:
            await self.app(scope, journal_receive, journal_send)
        finally:
            # 0: a dropped connection (docs/behaviour.md §10); 499 kept: the client left mid-body (GuardMiddleware).
            state.status = status if complete else (499 if state.status == 499 else 0)
            self._record(scope, state, arrived, (time.perf_counter() - started) * 1000, request_body,
                         response_headers, response_body)

    def _record(self, scope: Scope, state: RequestState, arrived: float, duration_ms: float,
                request_body: Capture | None, response_headers: list[tuple[bytes, bytes]],
                response_body: Capture) -> None:
        principal = state.principal.user_name if state.principal is not None else None
        headers = scope["headers"]
        path = state.path or scope["path"]
        meta = []
        for name, value in headers:
            if name == b"user-agent" or name == b"authorization":
                meta.append((name, value[:_META_CAP]))
        self.journal.record_request(arrived, RawRequest(
            state.request_id, scope["method"], path,
            scope.get("query_string", b"").decode("latin-1"), principal, tuple(meta), state.status,
            state.scim_type, state.detail, duration_ms, state.rule),
            pack_exchange(path, headers, request_body, response_headers, response_body))
