"""Shared fixtures: an in-process client on a fresh app, a live uvicorn server (shared helpers: tests/helpers.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from mockscim.app import create_app
from mockscim.settings import Settings

# Re-exported while tests/test_journal.py and tests/test_log_lines.py still import them from here: their home is
# tests/helpers.py.
from tests.helpers import AUTH as AUTH
from tests.helpers import SCIM as SCIM
from tests.helpers import free_port as free_port


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient on a new app from Settings keyword arguments."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        client = TestClient(create_app(Settings(**settings)), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client on the default app (cloud profile, default fixture, static token)."""
    return make_client()


@contextmanager
def live_server(settings: Settings | None = None) -> Iterator[str]:
    """Run the app under uvicorn in a thread; yields the base URL once it answers (readiness awaited, not slept)."""
    port = free_port()
    settings = (settings or Settings()).with_(port=port)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
