"""``limit`` of the journal (docs/behaviour.md §12): the newest N matching entries, or all of them when fewer match."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockscim.testing import MockScim

from .helpers import journal_of

SIZES = range(0, 31)
LIMITS = range(1, 36)


def test_limit_over_sizes_and_limits_over_http(client: TestClient) -> None:
    client.delete("/_mockscim/journal")
    for size in SIZES:
        if size:
            client.get(f"/nowhere/{size}")
        expected = [f"/nowhere/{n}" for n in range(1, size + 1)]
        for limit in LIMITS:
            result = journal_of(client, limit=limit)
            assert result["total"] == size
            assert [e["path"] for e in result["entries"]] == expected[max(size - limit, 0):], (size, limit)
        assert journal_of(client, limit=0)["entries"] == []


def test_limit_over_sizes_and_limits_through_mockscim() -> None:
    with MockScim(fixture="empty") as m, m.client() as http:
        for size in SIZES:
            if size:
                http.get(f"{m.url}/nowhere/{size}")
            expected = [f"/nowhere/{n}" for n in range(1, size + 1)]
            for limit in LIMITS:
                assert [e.path for e in m.journal(limit=limit)] == expected[max(size - limit, 0):], (size, limit)
            assert [e.path for e in m.journal()] == expected
