"""Outermost middleware: a request id on every response, and one journal entry per non-control-plane request."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim.context import state_of
from mockscim.journal import Journal, iso_utc_epoch, redact_text


def credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, list[str]]:
    """The user agent, and the credential values a request carries (bearer tokens, a Basic client secret)."""
    agent: str | None = None
    known: list[str] = []
    for name, value in headers:
        if name == b"user-agent":
            agent = value.decode("latin-1")
        elif name == b"authorization":
            scheme, _, rest = value.decode("latin-1").strip().partition(" ")
            rest = rest.strip()
            if len(scheme) == 5 and scheme.lower() == "basic":
                try:
                    rest = base64.b64decode(rest, validate=True).decode("utf-8").partition(":")[2]
                except (binascii.Error, UnicodeDecodeError):
                    pass
                known.append(unquote_plus(rest))  # RFC 6749 §2.3.1: form-encoded inside Basic
            known.append(rest)
    return agent, [k for k in known if len(k) >= 4]  # too short to be a secret, and would mangle everything


class JournalMiddleware:
    """Gives each request an id (``X-Request-Id``), times it, and journals it (SPEC §12); never raises itself.

    An entry is written when the response completes, or when the app returns without completing it (a dropped
    connection, SPEC §10: status 0). Control-plane requests get an id but no entry.
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

        async def journal_send(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        path: str = scope["path"]
        if path == "/_mockscim" or path.startswith("/_mockscim/"):
            await self.app(scope, receive, journal_send)  # SPEC §12: the control plane is not journaled
            return
        try:
            await self.app(scope, receive, journal_send)
        finally:
            state.status = status if complete else 0
            self._record(scope, arrived, (time.perf_counter() - started) * 1000)

    def _record(self, scope: Scope, arrived: float, duration_ms: float) -> None:
        state = state_of(scope)
        agent, known = credentials(scope["headers"])
        query = scope.get("query_string", b"").decode("latin-1")
        entry: dict[str, Any] = {
            "time": iso_utc_epoch(arrived),
            "requestId": state.request_id,
            "method": scope["method"],
            "path": redact_text(scope["path"], known),
            "query": query,  # SPEC §2: a token in the query string is redacted, by the journal on the way out
            "principal": state.principal.user_name if state.principal is not None else None,
            "userAgent": redact_text(agent, known),
            "status": state.status,
            "scimType": state.scim_type,
            "detail": redact_text(state.detail, known),
            "durationMs": round(duration_ms, 3),
            "rule": state.rule,
        }
        self.journal.record(arrived, entry, known)
