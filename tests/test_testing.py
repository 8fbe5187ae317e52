"""MockScim through real HTTP (docs/behaviour.md §14): lifecycle, reset, state, scenarios, outages, journal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mockscim.testing.server import MockScim, MockScimError

NEW_USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new.user@example.com"}
EXPECTING: dict[str, Any] = {"name": "expecting", "rules": [
    {"match": {"resource": "Groups"}, "then": {"status": 503, "detail": "Groups are down."}, "expect": True},
]}


@pytest.fixture(scope="module")
def server() -> Iterator[MockScim]:
    with MockScim() as m:
        yield m


@pytest.fixture
def m(server: MockScim) -> MockScim:
    server.reset()
    return server


def user_names(m: MockScim) -> list[str]:
    with m.client() as c:
        return [u["userName"] for u in c.get("/Users", params={"count": 100}).json()["Resources"]]


def test_serves_on_a_free_loopback_port_with_the_token(m: MockScim) -> None:
    """url is loopback with a real port; client() reaches SCIM with the bearer token already set."""
    assert m.url.startswith("http://127.0.0.1:") and not m.url.endswith(":0")
    assert m.scim_url == f"{m.url}/scim/v2"
    assert m.token == "mockscim-token"
    assert httpx.get(f"{m.url}/_mockscim/health").json()["status"] == "ok"
    with m.client() as c:
        assert c.get("/Users").status_code == 200
    assert httpx.get(f"{m.scim_url}/Users").status_code == 401


def test_small_answers_do_not_wait_for_delayed_acks(m: MockScim, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's listening socket is TCP with TCP_NODELAY (asyncio then sets it on every accepted connection, so
    Nagle does not hold a body until the client's delayed ACK), and client() loads no CA bundle for its http:// URL
    (timings: python -m bench.scale)."""
    import socket
    import ssl

    server = m._background._server
    assert server is not None
    for listening in (sock for srv in server.servers for sock in srv.sockets):
        assert listening.proto == socket.IPPROTO_TCP
        assert listening.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

    def no_ca_bundle(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        raise AssertionError("client() loaded a CA bundle")

    monkeypatch.setattr(ssl, "create_default_context", no_ca_bundle)
    with m.client() as c:
        assert c.get("/Groups").status_code == 200


def test_context_manager_stops_the_server_and_ports_differ() -> None:
    """Two servers get two ports; after the with block the port refuses connections and stop() is idempotent."""
    with MockScim(fixture="empty") as a, MockScim(fixture="empty") as b:
        assert a.url != b.url
        url = a.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_mockscim/health")
    a.stop()
    assert a.closed
    with pytest.raises(RuntimeError, match="stopped"):
        a.start()


def test_url_before_start_is_an_error_but_the_app_serves_in_process() -> None:
    """Without start() there is no socket: url raises, and the app answers an ASGITransport client."""
    m = MockScim(fixture="empty")
    try:
        with pytest.raises(RuntimeError, match="not started"):
            _ = m.url

        async def count() -> int:
            transport = httpx.ASGITransport(app=m.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://x/scim/v2",
                                         headers={"Authorization": f"Bearer {m.token}"}) as c:
                return int((await c.get("/Users")).json()["totalResults"])

        assert asyncio.run(count()) == 1
        assert [e.path for e in m.journal()] == ["/scim/v2/Users"]
    finally:
        m.stop()


def test_reset_restores_the_fixture_and_clears_scenario_journal_and_outage(m: MockScim) -> None:
    """reset(): created data gone, no scenario, empty journal, Secret Server up."""
    with m.client() as c:
        assert c.post("/Users", json=NEW_USER).status_code == 201
    m.scenario("throttled")
    m.secret_server_down()
    m.reset()
    assert m.journal() == []
    assert m.active_scenario() is None
    assert "new.user@example.com" not in user_names(m)
    assert httpx.get(f"{m.url}/_mockscim/health").json()["secretServer"] == "up"


def test_load_state_from_a_mapping_and_from_a_file(m: MockScim, tmp_path: Path) -> None:
    """load_state() replaces the store from a dict or a JSON file; invalid state raises naming the problem."""
    state = m.export_state()
    state["Users"] = [u for u in state["Users"] if u["userName"] == "scim-service@mockscim.test"]
    state["Groups"] = state["PrivilegedDataPermissions"] = state["ContainerPermissions"] = []
    m.load_state(state)
    assert user_names(m) == ["scim-service@mockscim.test"]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(m.export_state()))
    m.reset()
    m.load_state(path)
    assert user_names(m) == ["scim-service@mockscim.test"]
    with pytest.raises(MockScimError, match="invalid state"):
        m.load_state({"Users": [{"id": "1"}], "Bogus": []})


def test_scenario_switches_at_once_and_the_context_manager_puts_the_previous_back(m: MockScim) -> None:
    """scenario() activates at once; on exit the previous scenario is back as it was, budgets included."""
    m.scenario(EXPECTING)
    with m.client() as c:
        assert c.get("/Groups").status_code == 503
    with m.scenario("slow-network"):
        assert m.active_scenario()["name"] == "slow-network"  # type: ignore[index]
    with m.scenario(None):
        assert m.active_scenario() is None
    active = m.active_scenario()
    assert active is not None and active["name"] == "expecting" and active["rules"][0]["fired"] == 1
    assert m.problems() == []


def test_scenario_inline_and_from_a_file_take_effect(m: MockScim, tmp_path: Path) -> None:
    """An inline dict (name optional) and a YAML path both act on requests; the journal names the rule."""
    rule = {"match": {"resource": "Groups"}, "then": {"status": 503, "detail": "Groups are down."}}
    with m.scenario({"rules": [rule]}), m.client() as c:
        assert c.get("/Groups").status_code == 503
    path = tmp_path / "down.yaml"
    path.write_text(yaml.safe_dump({"name": "from-file", "rules": [rule]}))
    with m.scenario(path), m.client() as c:
        assert c.get("/Groups").status_code == 503
    assert [e.rule for e in m.journal(path="/scim/v2/Groups")] == ["inline#0", "from-file#0"]


def test_unknown_scenario_raises_and_keeps_the_active_one(m: MockScim) -> None:
    """An unknown name is refused with the server's message; the active scenario stays."""
    m.scenario("throttled")
    with pytest.raises(MockScimError, match="no-such-scenario"):
        m.scenario("no-such-scenario")
    assert m.active_scenario()["name"] == "throttled"  # type: ignore[index]


def test_constructor_scenario_is_active_and_reset_restarts_it() -> None:
    """MockScim(scenario=...) starts with it; reset() re-activates it afresh rather than dropping it."""
    with MockScim(fixture="empty", scenario=EXPECTING) as m:
        with m.client() as c:
            c.get("/Groups")
        assert m.active_scenario()["rules"][0]["fired"] == 1  # type: ignore[index]
        m.reset()
        assert m.active_scenario()["rules"][0]["fired"] == 0  # type: ignore[index]


def test_secret_server_down_is_a_context_manager(m: MockScim) -> None:
    """secret_server_down() acts at once and brings Secret Server back on exit."""
    health = f"{m.url}/_mockscim/health"
    with m.secret_server_down():
        assert httpx.get(health).json()["secretServer"] == "down"
    assert httpx.get(health).json()["secretServer"] == "up"


def test_journal_returns_typed_entries_filtered(m: MockScim) -> None:
    """journal() gives JournalEntry objects, filtered by status, method, path, since and limit."""
    with m.client(headers={"User-Agent": "probe/1"}) as c:
        c.get("/Users", params={"count": 1})
        c.get("/Users/nope")
        c.post("/Users", json=NEW_USER)
    entries = m.journal()
    assert [(e.method, e.path, e.status) for e in entries] == [
        ("GET", "/scim/v2/Users", 200), ("GET", "/scim/v2/Users/nope", 404), ("POST", "/scim/v2/Users", 201)]
    first = entries[0]
    assert (first.query, first.user_agent, first.rule) == ("count=1", "probe/1", None)
    assert first.principal == "scim-service@mockscim.test" and first.duration_ms >= 0
    assert entries[1].scim_type is None and entries[1].detail
    assert [e.status for e in m.journal(status="4xx")] == [404]
    assert [e.status for e in m.journal(status=201, method="post")] == [201]
    assert [e.path for e in m.journal(path="/scim/v2/Users/*")] == ["/scim/v2/Users/nope"]
    assert [e.status for e in m.journal(since=first)] == [404, 201]
    assert [e.status for e in m.journal(limit=1)] == [201]
    m.clear_journal()
    assert m.journal() == []


def test_problems_name_unfired_expectations_even_after_switching_away(m: MockScim) -> None:
    """An expect: true rule that never fired is a problem, also once its scenario was replaced; firing clears it."""
    with m.scenario(EXPECTING):
        pass
    problems = m.problems()
    assert len(problems) == 1 and "'expecting' rule #0 was expected to fire but never did" in problems[0]
    assert '"resource": "Groups"' in problems[0]
    with pytest.raises(AssertionError, match="1 server-side problem"):
        m.check()
    m.reset()
    assert m.problems() == []
    with m.scenario(EXPECTING):
        with m.scenario("throttled"):
            pass
        with m.client() as c:
            c.get("/Groups")
    assert m.problems() == []


def test_problems_carry_the_server_exception_and_its_traceback(m: MockScim, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unhandled exception inside the server becomes a 500 for the client and a problem with its traceback."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaboom in list")

    monkeypatch.setattr(m.app.state.runtime.core, "list", boom)
    with m.client() as c:
        assert c.get("/Users").status_code == 500
    [problem] = m.problems()
    assert "unhandled exception in the server" in problem and "RuntimeError: kaboom in list" in problem
    assert "in boom" in problem
    m.reset()
    assert m.problems() == []
