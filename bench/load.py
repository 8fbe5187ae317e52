"""Bounded closed-loop HTTP/1.1 load generator: keep-alive connections on raw asyncio protocols, count and time cap."""

from __future__ import annotations

import asyncio
import re
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)


def request(method: str, path: str, host: str, *, token: str | None = None, body: bytes | None = None,
            content_type: str = "application/scim+json") -> bytes:
    """One HTTP/1.1 keep-alive request, encoded once so the client's hot loop only writes bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: mockscim-bench"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    elif method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")  # uvicorn closes a keep-alive POST that declares no length
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


@dataclass
class Result:
    """What one phase measured: completions after warm-up, their latencies and completion times (seconds)."""

    name: str
    completed: int = 0
    measured: int = 0
    errors: int = 0
    elapsed: float = 0.0
    client_cpu: float = 0.0
    truncated: bool = False
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    stamps: array[float] = field(default_factory=lambda: array("d"))
    responses: list[tuple[int, bytes]] = field(default_factory=list)
    """``(request index, raw response)`` when asked to keep them (onboarding reads the ids from ``Location``)."""

    @property
    def rps(self) -> float:
        return self.measured / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the measured latencies, in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def window_rate(self, start: int, end: int) -> float:
        """Completions per second between the ``start``-th and ``end``-th completion (all completions, warm-up too)."""
        end = min(end, len(self.stamps) - 1)
        if start >= end:
            return float("nan")
        span = self.stamps[end] - self.stamps[start]
        return (end - start) / span if span > 0 else float("nan")


class _Run:
    """Hands out request ``i`` = ``requests[i % len]`` until ``count`` are sent or the deadline passes."""

    def __init__(self, requests: Sequence[bytes], count: int, seconds: float, warmup: int, keep: bool,
                 result: Result) -> None:
        self.requests = requests
        self.count = count
        self.warmup = warmup
        self.keep = keep
        self.result = result
        self.sent = 0
        self.in_flight = 0
        self.deadline = time.perf_counter() + seconds
        self.t_measure = time.perf_counter()
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def next_request(self) -> tuple[int, bytes] | None:
        if self.sent >= self.count:
            return None
        if time.perf_counter() > self.deadline:
            self.result.truncated = True
            return None
        index = self.sent
        self.sent += 1
        self.in_flight += 1
        return index, self.requests[index % len(self.requests)]

    def completed(self, status: int, started: float, index: int, raw: bytes | None) -> None:
        now = time.perf_counter()
        res = self.result
        self.in_flight -= 1
        res.completed += 1
        res.statuses[status] += 1
        res.stamps.append(now)
        if status >= 400 or status == 0:
            res.errors += 1
        if res.completed == self.warmup:
            self.t_measure = now
        elif res.completed > self.warmup:
            res.latencies.append(now - started)
        if raw is not None and self.keep:
            res.responses.append((index, raw))

    def check_done(self) -> None:
        if self.in_flight == 0 and not self.finished.done():
            self.finished.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send, parse one response, send the next (closed loop)."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.started = 0.0
        self.index = 0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def fire(self) -> None:
        item = self.run.next_request()
        if item is None or self.transport is None:
            self.busy = False
            self.run.check_done()  # only once no next request goes out: in_flight is 0 between two on one connection
            return
        self.index, data = item
        self.busy = True
        self.started = time.perf_counter()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.busy:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[: end + 2])
            match = _CONTENT_LENGTH.search(head)
            if match is None and _CHUNKED.search(head):
                self._fail()
                return
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buf) < total:
                return
            raw = bytes(self.buf[:total]) if self.run.keep else None
            del self.buf[:total]
            status = int(head[9:12])
            self.busy = False
            self.run.completed(status, self.started, self.index, raw)
            self.fire()

    def _fail(self) -> None:
        if self.busy:
            self.busy = False
            self.run.completed(0, self.started, self.index, None)
            self.run.check_done()
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy:
            self.busy = False
            self.run.completed(0, self.started, self.index, None)
        self.run.check_done()


async def run_load(host: str, port: int, requests: Sequence[bytes], *, count: int, seconds: float,
                   concurrency: int = 16, warmup: int = 0, keep_responses: bool = False,
                   name: str = "") -> Result:
    """Send ``count`` requests (``requests`` cycled) over ``concurrency`` connections, stopping at ``seconds``.

    The first ``warmup`` completions are sent and checked but left out of the rate and latencies.
    """
    result = Result(name)
    warmup = min(warmup, max(0, count // 5))
    run = _Run(requests, count, seconds, warmup, keep_responses, result)
    loop = asyncio.get_running_loop()
    connections: list[_Connection] = []
    for _ in range(concurrency):
        _, proto = await loop.create_connection(lambda: _Connection(run), host, port)
        connections.append(proto)
    cpu0, t0 = time.process_time(), time.perf_counter()
    run.t_measure = t0
    for conn in connections:
        conn.fire()
    run.check_done()
    try:
        await asyncio.wait_for(asyncio.shield(run.finished), seconds + 30.0)  # a stuck server must not hang us
    except TimeoutError:
        result.truncated = True
        result.errors += run.in_flight
    t1 = time.perf_counter()
    result.elapsed = t1 - run.t_measure
    result.measured = max(0, result.completed - warmup) if warmup else result.completed
    result.client_cpu = (time.process_time() - cpu0) / (t1 - t0) if t1 > t0 else 0.0
    for conn in connections:
        if conn.transport is not None:
            conn.transport.close()
    return result


async def _fixed_server(port_holder: list[int], ready: asyncio.Event, stop: asyncio.Event) -> None:
    """A server answering every request with a fixed 200 (for the client's own ceiling)."""
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}"

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.Transport, transport)
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            n = self.buf.count(b"\r\n\r\n")
            if n:
                self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
                self.transport.write(answer * n)

    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0)
    port_holder.append(server.sockets[0].getsockname()[1])
    ready.set()
    await stop.wait()
    server.close()


def client_ceiling(count: int, seconds: float, concurrency: int = 16,
                             pin_server: Callable[[], None] | None = None) -> Result:
    """The load generator against a fixed-answer server in another process: the client's own limit."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_fixed, args=(child, pin_server), daemon=True)
    proc.start()
    try:
        port = parent.recv()
        req = request("GET", "/json", f"127.0.0.1:{port}")
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(run_load("127.0.0.1", port, [req], count=count, seconds=seconds,
                                       concurrency=concurrency, warmup=count // 20, name="client ceiling"))
    finally:
        proc.kill()
        proc.join(5)


def _serve_fixed(conn: object, pin: Callable[[], None] | None) -> None:
    if pin is not None:
        pin()
    async def main() -> None:
        holder: list[int] = []
        ready, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(_fixed_server(holder, ready, stop))
        await ready.wait()
        conn.send(holder[0])  # type: ignore[attr-defined]
        await task

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main())


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (the client needs it as much as the server), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
