"""A client that leaves mid-body (docs/behaviour.md §12): journaled as 499, no traceback, no 500, no failed test."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from mockscim.testing import MockScim


def send_half_a_body(url: str, path: str, extra: str = "") -> None:
    """Headers announcing 100 bytes, then 6 of them, then close (the finding's reproduction)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=5) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: 100\r\n"
                      f"Content-Type: application/scim+json\r\n{extra}\r\n").encode() + b'{"use')


@pytest.mark.parametrize(("path", "extra"), [
    ("/scim/v2/Users", "Authorization: Bearer mockscim-token\r\n"),
    ("/oauth2/token", ""),
    ("/_mockscim/state", ""),
])
def test_a_client_that_leaves_mid_body_is_a_499_not_an_error(path: str, extra: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with MockScim() as m:
        send_half_a_body(m.url, path, extra)
        deadline = time.monotonic() + 5
        entries = []
        while time.monotonic() < deadline and path != "/_mockscim/state":  # the control plane is not journaled
            entries = m.journal(path=path)
            if entries:
                break
            time.sleep(0.05)
        if path != "/_mockscim/state":
            assert [(e.status, e.method) for e in entries] == [(499, "POST")]
        else:
            time.sleep(0.3)
        assert m.errors == []  # the pytest plugin fails a test for each of these
        assert m.problems() == []
    assert not [r for r in caplog.records if "unhandled exception" in r.getMessage() or r.exc_info]
