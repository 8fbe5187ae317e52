"""The HTTP edge (mockscim/http/edge.py, docs/behaviour.md §14): 431 for an oversized head, a head-read timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from mockscim.http import edge
from mockscim.testing import MockScim

ANSWER_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\n", b"\r\n\r\nRequest header fields too large.")


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def server() -> Iterator[MockScim]:
    with MockScim() as m:
        yield m


@pytest.mark.parametrize("size", [70 * 1024, 5 * 1024 * 1024])
def test_a_head_over_the_limit_is_431_and_the_server_stays_well(server: MockScim, size: int) -> None:
    """The finding sent 100 x a 5 MiB X-Big header (RSS 35 → 545 MB); now each is refused at the edge."""
    with connect(server.url) as sock:
        head = f"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * size}\r\n\r\n".encode()
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before all of it was sent
        try:
            answer = read_all(sock)
        except ConnectionResetError:
            pytest.fail("reset before the 431 was read")
    assert answer.startswith(ANSWER_431[0]) and answer.endswith(ANSWER_431[1])
    assert b"connection: close" in answer
    assert httpx.get(f"{server.url}/_mockscim/health").status_code == 200
    assert server.journal(path="/scim/v2/ServiceProviderConfig") == []  # refused before the app


def test_a_head_under_the_limit_and_a_large_body_are_served(server: MockScim) -> None:
    headers = {"Authorization": f"Bearer {server.token}", "X-Fine": "b" * 30_000}
    body = {"userName": "big@example.com", "displayName": "c" * 500_000}
    r = httpx.post(f"{server.scim_url}/Users", json=body, headers=headers)
    assert r.status_code == 201


def test_a_trickling_head_is_cut_off(server: MockScim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge._HeadGuard, "head_timeout", 0.3)
    with connect(server.url) as sock:
        sock.sendall(b"GET /_mockscim/health HTTP/1.1\r\nHost: x\r\n")
        began = time.monotonic()
        for _ in range(20):  # one header line every 0.1 s, never the blank line
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.1)
        sock.settimeout(5)
        try:
            rest = read_all(sock)
        except ConnectionResetError:
            rest = b""
    assert rest == b"" and time.monotonic() - began < 1.5  # closed without an answer, at ≈ 0.3 s


def test_an_idle_connection_is_cut_off_but_a_slow_answer_is_not(server: MockScim,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge._HeadGuard, "head_timeout", 0.3)
    with connect(server.url) as idle:
        idle.settimeout(5)
        assert read_all(idle) == b""  # nothing ever sent: closed
    with server.scenario({"name": "slow", "rules": [{"match": {"path": "/scim/v2/Users"},
                                                    "then": {"latency": "800ms"}}]}):
        r = httpx.get(f"{server.scim_url}/Users", headers={"Authorization": f"Bearer {server.token}"}, timeout=10)
    assert r.status_code == 200


def test_each_head_on_a_kept_alive_connection_has_its_own_deadline(server: MockScim,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edge._HeadGuard, "head_timeout", 0.3)
    health = b"GET /_mockscim/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(server.url) as sock:
        began = time.monotonic()
        time.sleep(0.2)
        sock.sendall(health)  # answered at ≈ 0.2 s: the next head's deadline is ≈ 0.5 s, not the connection's 0.3 s
        time.sleep(0.2)
        sock.sendall(health)  # ≈ 0.4 s: still served
        sock.settimeout(5)
        data = read_all(sock)  # then closed ≈ 0.3 s after the second answer, nothing more sent
    assert data.count(b"HTTP/1.1 200 OK") == 2 and time.monotonic() - began < 2.0
