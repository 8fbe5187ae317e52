"""The pytest plugin through pytester (docs/behaviour.md §14): isolation, marker, options, teardown, xdist."""

from __future__ import annotations

import json

import httpcore  # noqa: F401  (see below)
import pytest
import uvicorn.protocols.http.auto  # noqa: F401

from mockscim.pytest_plugin import ServerPool

# Inner in-process runs drop the modules they first imported (pytester's sys.modules snapshot). httpx imports
# httpcore lazily and keeps its exception classes, so a later re-import would leave httpx unable to map
# httpcore.ConnectError to httpx.ConnectError in the outer session: import what the inner runs need up front.

pytest_plugins = ["pytester"]

HELPERS = """
import asyncio, json, os
import httpx, pytest

NEW_USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com"}

def users(m):
    with m.client() as c:
        return [u["userName"] for u in c.get("/Users", params={"count": 100}).json()["Resources"]]

def health(m):
    return httpx.get(f"{m.url}/_mockscim/health").json()
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process inner session with the plugin loaded explicitly (not through the outer entry point)."""
    return pytester.runpytest("-p", "no:mockscim", "-p", "mockscim.pytest_plugin", *args)


def test_each_test_starts_from_a_clean_server(pytester: pytest.Pytester) -> None:
    """Data, scenario, outage and journal of one test are gone in the next; one server throughout (mockscim_server)."""
    pytester.makepyfile(HELPERS + """
SEEN = set()

def test_a_dirties_everything(mockscim):
    with mockscim.client() as c:
        assert c.post("/Users", json=NEW_USER).status_code == 201
    mockscim.scenario("throttled")
    mockscim.secret_server_down()
    SEEN.add(mockscim.url)

def test_b_sees_none_of_it(mockscim):
    assert mockscim.journal() == []
    assert mockscim.active_scenario() is None
    assert health(mockscim)["secretServer"] == "up"
    assert "a@example.com" not in users(mockscim) and len(users(mockscim)) == 5
    SEEN.add(mockscim.url)

def test_c_creates_the_same_user_again(mockscim):
    with mockscim.client() as c:
        assert c.post("/Users", json=NEW_USER).status_code == 201
    SEEN.add(mockscim.url)
    assert len(SEEN) == 1

def test_d_the_session_server_is_the_default_one(mockscim_server, mockscim):
    assert mockscim_server is mockscim and mockscim_server.url in SEEN
""")
    run(pytester).assert_outcomes(passed=4)


def test_marker_picks_fixture_profile_and_scenario_for_that_test_only(pytester: pytest.Pytester) -> None:
    """fixture=, profile=, scenario= (shipped name, inline dict, file) apply to the marked test and no other."""
    pytester.path.joinpath("one-user.json").write_text(json.dumps({
        "serviceUsers": [{"userName": "svc@example.com", "clientSecret": "s"}],
        "Users": [{"id": "1", "userName": "svc@example.com"}, {"id": "2", "userName": "only@example.com"}]}))
    pytester.path.joinpath("groups-down.yaml").write_text(
        "name: groups-down\nrules:\n  - {match: {resource: Groups}, then: {status: 503}}\n")
    pytester.makepyfile(HELPERS + """
@pytest.mark.mockscim(fixture="empty")
def test_empty(mockscim):
    assert users(mockscim) == ["scim-service@mockscim.test"]

@pytest.mark.mockscim(fixture="one-user.json")
def test_fixture_file_next_to_the_test(mockscim):
    assert users(mockscim) == ["svc@example.com", "only@example.com"]

@pytest.mark.mockscim(profile="rfc")
def test_rfc(mockscim):
    assert health(mockscim)["profile"] == "rfc"
    with mockscim.client() as c:
        assert c.get("/Containers").status_code == 404

@pytest.mark.mockscim(scenario="throttled")
def test_shipped_scenario(mockscim):
    assert mockscim.active_scenario()["name"] == "throttled"

@pytest.mark.mockscim(scenario={"rules": [{"match": {"resource": "Groups"}, "then": {"status": 503}}]})
def test_inline_scenario(mockscim):
    with mockscim.client() as c:
        assert c.get("/Groups").status_code == 503

@pytest.mark.mockscim(scenario="groups-down.yaml")
def test_scenario_file_next_to_the_test(mockscim):
    with mockscim.client() as c:
        assert c.get("/Groups").status_code == 503

def test_unmarked_is_back_to_defaults(mockscim):
    assert len(users(mockscim)) == 5 and health(mockscim)["profile"] == "cloud"
    assert mockscim.active_scenario() is None

@pytest.mark.mockscim(fixture="empty")
class TestOnAClass:
    def test_inherits_the_marker(self, mockscim):
        assert users(mockscim) == ["scim-service@mockscim.test"]
""")
    run(pytester, "--strict-markers").assert_outcomes(passed=8)


def test_marker_mistakes_are_setup_errors_that_say_why(pytester: pytest.Pytester) -> None:
    """A positional marker argument, or a scenario that does not exist, errors the test with a readable reason."""
    pytester.makepyfile("""
import pytest

@pytest.mark.mockscim("empty")
def test_positional(mockscim):
    pass

@pytest.mark.mockscim(scenario="no-such-scenario")
def test_unknown_scenario(mockscim):
    pass
""")
    result = run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*takes keyword arguments only*", "*unknown scenario 'no-such-scenario'*"])


def test_an_unfired_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    """A rule with expect: true that never fired fails the test at teardown, naming the rule; a fired one does not."""
    pytester.makepyfile(HELPERS + """
EXPECT = {"name": "want-503", "rules": [
    {"match": {"resource": "Groups"}, "then": {"status": 503}, "expect": True}]}

@pytest.mark.mockscim(scenario=EXPECT)
def test_never_calls_groups(mockscim):
    with mockscim.client() as c:
        c.get("/Users")

@pytest.mark.mockscim(scenario=EXPECT)
def test_calls_groups(mockscim):
    with mockscim.client() as c:
        assert c.get("/Groups").status_code == 503

def test_switched_away_unfired(mockscim):
    with mockscim.scenario(EXPECT):
        pass
""")
    result = run(pytester)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_never_calls_groups*",
        "*server-side problem(s) during test_*.py::test_never_calls_groups:",
        "*scenario 'want-503' rule #0 was expected to fire but never did: *Groups*",
        "*ERROR at teardown of test_switched_away_unfired*",
    ])
    assert "test_calls_groups" not in "\n".join(line for line in result.outlines if "ERROR at" in line)


def test_an_exception_inside_the_server_fails_the_test(pytester: pytest.Pytester) -> None:
    """An unhandled exception in the app (here a patched core method) fails the test with its traceback."""
    pytester.makepyfile(HELPERS + """
def test_breaks_the_server(mockscim, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom in the core")
    monkeypatch.setattr(mockscim.app.state.runtime.core, "list", boom)
    with mockscim.client() as c:
        assert c.get("/Users").status_code == 500

def test_next_one_is_clean(mockscim):
    with mockscim.client() as c:
        assert c.get("/Users").status_code == 200
""")
    result = run(pytester)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_breaks_the_server*",
        "*unhandled exception in the server (the client got a 500):*",
        "*in boom*",
        "*RuntimeError: boom in the core*",
    ])


def test_mockscim_app_serves_in_process_and_shares_state_with_mockscim(pytester: pytest.Pytester) -> None:
    """mockscim_app is the reset app for ASGITransport; with mockscim in the same test it is the same server."""
    pytester.makepyfile(HELPERS + """
async def count(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t/scim/v2",
                                 headers={"Authorization": "Bearer mockscim-token"}) as c:
        return (await c.get("/Users")).json()["totalResults"]

@pytest.mark.mockscim(fixture="empty")
def test_app_alone(mockscim_app):
    assert asyncio.run(count(mockscim_app)) == 1

def test_app_and_server(mockscim_app, mockscim):
    assert mockscim_app is mockscim.app
    with mockscim.client() as c:
        c.post("/Users", json=NEW_USER)
    assert asyncio.run(count(mockscim_app)) == 6
""")
    run(pytester).assert_outcomes(passed=2)


def test_options_and_ini_keys_set_the_defaults(pytester: pytest.Pytester) -> None:
    """mockscim_profile in the ini, --mockscim-fixture on the command line; the command line wins over the ini."""
    pytester.makeini("[pytest]\nmockscim_profile = rfc\nmockscim_fixture = empty\n")
    pytester.makepyfile(HELPERS + """
def test_defaults(mockscim):
    with open("expected.json") as f:
        expected = json.load(f)
    assert [health(mockscim)["profile"], len(users(mockscim))] == expected
""")
    pytester.path.joinpath("expected.json").write_text('["rfc", 1]')
    run(pytester).assert_outcomes(passed=1)
    pytester.path.joinpath("expected.json").write_text('["cloud", 5]')
    run(pytester, "--mockscim-profile", "cloud", "--mockscim-fixture", "default").assert_outcomes(passed=1)
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--mockscim-fixture=FIXTURE*", "*--mockscim-profile=PROFILE*"])


def test_xdist_workers_get_their_own_servers_through_the_entry_point(pytester: pytest.Pytester) -> None:
    """A plain ``pytest -n 2`` subprocess (no -p: the pytest11 entry point loads the plugin, marker registered):
    both workers run tests, each against its own server; the same create never collides."""
    out = pytester.path / "seen"
    out.mkdir()
    pytester.makepyfile(HELPERS + f"""
@pytest.mark.parametrize("i", range(8))
def test_create(mockscim, i):
    with mockscim.client() as c:
        assert c.post("/Users", json=NEW_USER).status_code == 201
    with open(os.path.join({str(out)!r}, f"{{os.environ['PYTEST_XDIST_WORKER']}}-{{i}}"), "w") as f:
        f.write(mockscim.url)

@pytest.mark.mockscim(fixture="empty")
def test_marked(mockscim):
    assert users(mockscim) == ["scim-service@mockscim.test"]
""")
    result = pytester.runpytest_subprocess("-n", "2", "--strict-markers")
    result.assert_outcomes(passed=9)
    urls: dict[str, set[str]] = {}
    for path in out.iterdir():
        urls.setdefault(path.name.split("-")[0], set()).add(path.read_text())
    assert sorted(urls) == ["gw0", "gw1"]
    assert all(len(seen) == 1 for seen in urls.values())
    assert urls["gw0"] != urls["gw1"]


def test_pool_keeps_the_default_and_stops_the_least_recently_used() -> None:
    """Servers are cached by settings; beyond the size, the least recently used non-default one is stopped."""
    pool = ServerPool({"fixture": None}, size=1)
    try:
        default = pool.get()
        empty = pool.get(fixture="empty")
        assert pool.get(fixture="empty") is empty and pool.get() is default
        rfc = pool.get(profile="rfc")
        assert rfc.settings.profile == "rfc"
        with pytest.raises(RuntimeError, match="stopped"):
            empty.reset()
        assert pool.get() is default
        default.stop()
        assert default.closed and not pool.get().closed
    finally:
        pool.close()


def test_a_misspelt_marker_keyword_is_one_usage_error(pytester: pytest.Pytester) -> None:
    """docs/behaviour.md §14: `scenrio=` is a usage error naming the test and the keyword, before any test runs."""
    pytester.makepyfile("""
import pytest

@pytest.mark.mockscim(scenrio="throttled")
def test_one(mockscim):
    pass
""")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: test_a_misspelt_marker_keyword_is_one_usage_error.py::test_one: "
                                 "@pytest.mark.mockscim(scenrio=…): unknown keyword 'scenrio'; did you mean "
                                 "'scenario'?"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_marker_fixture_that_does_not_exist_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.mockscim(fixture="nope.json")
def test_one(mockscim):
    pass
""")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *::test_one: @pytest.mark.mockscim(fixture='nope.json'): no such file*"])


def test_a_missing_fixture_option_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one(mockscim):\n    pass\n")
    result = run(pytester, "--mockscim-fixture", "missing.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mockscim-fixture 'missing.json': no such file (nor a shipped fixture: "
                                 "default, empty), relative to *"])
    assert "FileNotFoundError" not in result.stdout.str() + result.stderr.str()
