"""``BackgroundServer``: an event loop in a daemon thread that runs uvicorn on a pre-bound socket when asked."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from mockscim.http.edge import config_options

T = TypeVar("T")
TIMEOUT = 30.0


class _Server(uvicorn.Server):
    """A uvicorn server that says when it listens, so start-up is awaited rather than slept on."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class BackgroundServer:
    """One event loop in a daemon thread: coroutines run on it (:meth:`run`), and uvicorn serves on it once
    :meth:`listen` is called. uvicorn installs no signal handlers outside the main thread, so this is safe in tests.
    """

    def __init__(self, app: ASGIApp, *, name: str = "mockscim") -> None:
        self.app = app
        self.url: str | None = None
        self._server: _Server | None = None
        self._serving: asyncio.Future[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._loop.is_closed()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        if self._loop.is_closed():
            coro.close()
            raise RuntimeError("MockScim is stopped: make a new one")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(TIMEOUT)

    def listen(self, host: str, port: int, *, tls: tuple[str, str] | None = None) -> str:
        """Serve on ``host:port`` and return the base URL once uvicorn listens. Port 0 takes a free port: the socket
        is bound here, before uvicorn starts, so no other process can take the port in between. ``tls``: the
        certificate and key files to serve HTTPS with."""
        if self._loop.is_closed():
            raise RuntimeError("MockScim is stopped: make a new one")
        if self.url is not None:
            return self.url
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose ``proto`` says TCP, and
        # without it Nagle holds each response body until the client's delayed ACK (~40 ms a request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # Linux: accepted sockets inherit it too
            sock.bind((host, port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        # The same edge as `mockscim serve`: 431 for a head over 64 KiB, a head-read timeout (mockscim/http/edge.py).
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", access_log=False,
                                # proxy headers: the app reads them (docs/behaviour.md §14)
                                timeout_graceful_shutdown=2, proxy_headers=False,
                                ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None,
                                **config_options())
        self._server = _Server(config)
        self._serving = self.run(self._boot(self._server, sock))
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"{'https' if tls else 'http'}://{shown}:{bound_port}"
        return self.url

    @staticmethod
    async def _boot(server: _Server, sock: socket.socket) -> asyncio.Future[None]:
        async def serve() -> None:
            try:
                await server.serve(sockets=[sock])
            except SystemExit as exc:  # uvicorn exits on a failed start-up: keep that in the task, not the loop
                raise RuntimeError(f"uvicorn exited with {exc.code}") from None

        task, ready = asyncio.ensure_future(serve()), asyncio.ensure_future(server.ready.wait())
        await asyncio.wait({task, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            server.should_exit = True
            cause = task.exception() if task.done() and not task.cancelled() else None
            raise RuntimeError(f"mockscim did not start{f': {cause!r}' if cause else ''}")
        return task

    def close(self, *last: Coroutine[Any, Any, Any]) -> None:
        """Stop uvicorn (if listening), run the ``last`` coroutines, then end the loop and its thread. Idempotent."""
        if self._loop.is_closed():
            for coro in last:
                coro.close()
            return
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            self.run(_wait(self._serving))
        for coro in last:
            self.run(coro)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)
        self._loop.close()
        self._server = self._serving = None


async def _wait(future: asyncio.Future[None]) -> None:
    await future
