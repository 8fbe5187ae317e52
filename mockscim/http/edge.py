"""The HTTP edge: uvicorn protocols with a request-head limit (431) and a head-read timeout (docs/behaviour.md §14)."""

# Why: uvicorn 0.55 has neither for its default parser. ``h11_max_incomplete_event_size`` bounds h11 only, and then
# answers 400, not 431; httptools (``uvicorn[standard]``, which ``http="auto"`` picks) reads headers of any size; and
# the keep-alive timer is armed neither before the first request nor while a head trickles in (19,400 trickling
# connections exhausted the file descriptors, findings 2026-12). These subclasses add both, for either parser: a head
# (request line and headers) over ``MAX_HEAD_BYTES`` gets 431 Request Header Fields Too Large (RFC 6585 §5) and the
# connection closes; a connection without a whole head ``HEAD_TIMEOUT`` seconds after opening (or after its last
# request) is closed, unless a response is still being made.

from __future__ import annotations

import asyncio
from typing import Any

MAX_HEAD_BYTES = 64 * 1024
"""Request line plus headers (a browser sends a few KB; Node's default limit is 16 KiB, nginx's 32 KiB)."""
HEAD_TIMEOUT = 10.0
"""Seconds a connection may take to send a whole request head (nginx's client_header_timeout is 60 s; local tests
send theirs at once)."""

_TOO_LARGE = "Request header fields too large."


def _431(extra_headers: list[tuple[bytes, bytes]]) -> bytes:
    head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
    head.extend(name + b": " + value + b"\r\n" for name, value in extra_headers)
    head += [b"content-type: text/plain; charset=utf-8\r\n", b"content-length: %d\r\n" % len(_TOO_LARGE),
             b"connection: close\r\n", b"\r\n", _TOO_LARGE.encode("ascii")]
    return b"".join(head)


class _HeadGuard:
    """What both protocols share: a head's bytes are looked at before the parser sees them, and its arrival timed.

    One timer per connection, not one per request: a request only notes when its head started (keep-alive requests
    come thousands a second), and the timer, when it fires, closes the connection if the head it finds started
    ``head_timeout`` ago or more, else waits for that moment."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    server_state: Any
    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT
    # Slots, set when the connection is made: the protocol's own attributes keep their shared-key instance dict, and
    # these are read and written on every request.
    __slots__ = ("_head", "_head_since", "_head_timer", "_in_head")
    _head_timer: asyncio.TimerHandle | None
    _in_head: bool
    _head: bytes
    _head_since: float

    def _connected(self) -> None:
        self._head_timer = None
        self._start_head()

    def _start_head(self) -> None:
        self._in_head, self._head = True, b""
        self._head_since = self.loop.time()
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(self._head_since + self.head_timeout, self._head_timed_out)

    def _head_done(self) -> None:
        self._in_head, self._head = False, b""

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = None

    def _busy(self) -> bool:
        """A response is still being made (a slow endpoint, a scenario's latency): never cut it short."""
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.response_complete

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if not self._in_head or self._busy():
            # No head under way, or a response being made: look again a whole timeout from now.
            self._head_timer = self.loop.call_at(now + self.head_timeout, self._head_timed_out)
            return
        deadline = self._head_since + self.head_timeout
        if now < deadline:  # this head started after the timer was set: wait for its own deadline
            self._head_timer = self.loop.call_at(deadline, self._head_timed_out)
            return
        self.transport.close()  # no whole head in time, and nothing to answer: no request

    def _refused(self, data: bytes) -> bool:
        """Before the parser: True (431 sent, connection closing) when the head ``data`` continues is over the limit.
        The head ends at its blank line (RFC 9112 §2.1); what follows it is body, not counted."""
        if self.transport.is_closing():
            return True
        if not self._in_head:
            return False
        head = self._head + data if self._head else data
        if len(head) <= self.max_head_bytes:
            # Within the limit whatever part of it is head (most requests: the whole head in one chunk, nothing
            # searched). Kept until the parser reports the head complete (_head_done), in case it is not yet.
            self._head = head
            return False
        seen = len(self._head)
        end = head.find(b"\r\n\r\n", max(0, seen - 3))
        if 0 <= end <= self.max_head_bytes - 4:
            self._head = b""
            return False
        self._head_done()
        self.transport.write(_431(list(self.server_state.default_headers)))
        self.transport.close()
        return True


def protocol_class() -> type[asyncio.Protocol]:
    """The protocol class to hand ``uvicorn.Config(http=…)``: httptools when installed (as ``"auto"`` picks), else
    h11, each with the head limit and timeout."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn without [standard]
        return _h11_class()

    # The parent's per-request methods, called directly: `super()` builds an object on every call (Python 3.11).
    parse, headers_complete = HttpToolsProtocol.data_received, HttpToolsProtocol.on_headers_complete
    message_complete = HttpToolsProtocol.on_message_complete

    class EdgeHttpTools(_HeadGuard, HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._connected()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            # Every request passes here: the usual case (a new head within the limit, in one chunk) inline, kept
            # as _refused keeps it.
            if self._in_head and not self._head and len(data) <= self.max_head_bytes \
                    and not self.transport.is_closing():
                self._head = data
                parse(self, data)
            elif not self._refused(data):
                parse(self, data)

        def on_headers_complete(self) -> None:
            self._in_head, self._head = False, b""  # _head_done, inline: every request passes here
            headers_complete(self)

        def on_message_complete(self) -> None:
            message_complete(self)
            # keep-alive: the next head is bounded and timed too (_start_head, inline while the timer runs)
            if self._head_timer is None:
                self._start_head()
            else:
                self._in_head, self._head, self._head_since = True, b"", self.loop.time()

    return EdgeHttpTools


def _h11_class() -> type[asyncio.Protocol]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class EdgeH11(_HeadGuard, H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._connected()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE and not self._in_head:
                self._start_head()  # keep-alive: the next head is bounded and timed too
            if self._refused(data):
                return
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._head_done()

    return EdgeH11


def config_options() -> dict[str, Any]:
    """``uvicorn.Config`` keyword arguments for the edge: the protocol above, and h11's own bound just above it."""
    return {"http": protocol_class(), "h11_max_incomplete_event_size": MAX_HEAD_BYTES + 1024}


__all__ = ["HEAD_TIMEOUT", "MAX_HEAD_BYTES", "config_options", "protocol_class"]
