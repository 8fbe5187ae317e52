"""The pytest plugin (entry point ``pytest11``): the ``mockscim`` fixtures and marker (docs/behaviour.md §14)."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the server itself is imported when a test first asks for it, not by every pytest run
    from starlette.applications import Starlette

    from mockscim.testing.server import MockScim, ScenarioSource

MARKER = (
    "mockscim(fixture=None, scenario=None, profile=None, **settings): run this test against a mockscim server "
    "holding that fixture (a shipped name or a JSON path), under that profile (cloud|rfc), with that scenario "
    "active (a shipped name, a path or an inline dict). Other keywords are Settings fields (token, admin_token, …)."
)
OPTIONS = {
    "fixture": "mockscim fixture for the server's store: a shipped name (default, empty) or a state JSON path",
    "profile": "mockscim profile: cloud (default) or rfc",
}
POOL_SIZE = 4  # servers kept for markers asking for another fixture/profile, besides the default one


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockscim")
    for name, text in OPTIONS.items():
        group.addoption(f"--mockscim-{name}", dest=f"mockscim_{name}", metavar=name.upper(), default=None,
                        help=f"{text} (ini: mockscim_{name})")
        parser.addini(f"mockscim_{name}", f"{text} (default for --mockscim-{name})", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    # docs/behaviour.md §14: an option value that does not exist is one usage error, not an error in every test.
    fixture, base = _option(config, "fixture")
    if fixture is not None and not _is_shipped(fixture) and not (base / fixture).is_file():
        raise pytest.UsageError(f"--mockscim-fixture {fixture!r}: no such file (nor a shipped fixture: default, "
                                f"empty), relative to {base}")
    profile, base = _option(config, "profile")
    if profile is not None and profile not in ("cloud", "rfc") and not (base / profile).is_file():
        raise pytest.UsageError(f"--mockscim-profile {profile!r}: not cloud, rfc or a profile file")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``mockscim`` marker with a keyword that does not exist (``scenrio=``) or a fixture file that does not
    exist is a usage error naming the test, found before any test runs (docs/behaviour.md §14)."""
    import difflib
    from dataclasses import fields

    from mockscim.settings import Settings

    known = sorted(f.name for f in fields(Settings))
    for item in items:
        for marker in item.iter_markers("mockscim"):
            where = f"{item.nodeid}: @pytest.mark.mockscim"
            for key in marker.kwargs:
                if key not in known:
                    hint = difflib.get_close_matches(key, known, n=1)
                    also = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(known)}"
                    raise pytest.UsageError(f"{where}({key}=…): unknown keyword {key!r}; {also}")
            fixture = marker.kwargs.get("fixture")
            base = item.path.parent
            if isinstance(fixture, str | os.PathLike) and not _is_shipped(fixture) \
                    and not (base / fixture).is_file():
                raise pytest.UsageError(f"{where}(fixture={os.fspath(fixture)!r}): no such file (nor a shipped "
                                        "fixture: default, empty)")


def _is_shipped(value: Any) -> bool:
    from mockscim.app import FIXTURE_DIR

    return value == "default" or (FIXTURE_DIR / f"{os.fspath(value)}.json").is_file()


class ServerPool:
    """Servers for one test session, by settings (all but the scenario), built when first asked for.

    The default server is kept all session; at most :data:`POOL_SIZE` others, the least recently used stopped first.
    """

    def __init__(self, defaults: Mapping[str, Any], size: int = POOL_SIZE) -> None:
        self.defaults = dict(defaults)
        self.size = size
        self._default_key = self._key(self.defaults)
        self._servers: OrderedDict[tuple[tuple[str, Any], ...], MockScim] = OrderedDict()

    @staticmethod
    def _key(settings: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted(settings.items()))

    def get(self, **overrides: Any) -> MockScim:
        """The server for the defaults updated by ``overrides`` (not started: the caller decides)."""
        settings = {**self.defaults, **overrides}
        key = self._key(settings)
        server = self._servers.get(key)
        if server is None or server.closed:  # a test may have stopped it
            from mockscim.testing.server import MockScim

            server = self._servers[key] = MockScim(**settings)
        self._servers.move_to_end(key)
        others = [k for k in self._servers if k != self._default_key]
        for stale in others[: max(len(others) - self.size, 0)]:
            self._servers.pop(stale).stop()
        return server

    def close(self) -> None:
        """Stop every server."""
        while self._servers:
            self._servers.popitem()[1].stop()


def _fixture_path(value: Any, base: Path) -> Any:
    """A fixture given as a path relative to ``base`` (when that file exists), else ``value`` unchanged."""
    from mockscim.util.shipped import fixtures_dir

    if value == "default":
        return None  # the same server as no fixture at all
    if isinstance(value, str | os.PathLike) and not (fixtures_dir() / f"{os.fspath(value)}.json").is_file():
        candidate = base / value
        if candidate.is_file():
            return str(candidate)
    return value


def _scenario_path(value: ScenarioSource | None, base: Path) -> ScenarioSource | None:
    """A scenario file given relative to ``base`` (when that file exists), else ``value`` unchanged."""
    if isinstance(value, str | os.PathLike) and (base / value).is_file():
        return base / value
    return value


def _option(config: pytest.Config, name: str) -> tuple[Any, Path]:
    """The ``--mockscim-<name>`` value (relative to the invocation directory), else the ini key's (to the ini file)."""
    value = config.getoption(f"mockscim_{name}")
    if value is not None:
        return value, config.invocation_params.dir
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return config.getini(f"mockscim_{name}") or None, base


@pytest.fixture(scope="session")
def _mockscim_pool(pytestconfig: pytest.Config) -> Iterator[ServerPool]:
    """Every mockscim server of this session (one per xdist worker process), stopped at the end."""
    fixture, base = _option(pytestconfig, "fixture")
    profile, _ = _option(pytestconfig, "profile")
    defaults: dict[str, Any] = {"fixture": _fixture_path(fixture, base)}
    if profile is not None:
        defaults["profile"] = profile
    pool = ServerPool(defaults)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def mockscim_server(_mockscim_pool: ServerPool) -> MockScim:
    """The session's default server, started; not reset between tests (use ``mockscim`` in tests)."""
    return _mockscim_pool.get().start()


@pytest.fixture
def _mockscim_test(request: pytest.FixtureRequest, _mockscim_pool: ServerPool) -> Iterator[MockScim]:
    """This test's server, reset and with the marker applied; server-side problems fail the test at teardown."""
    marker = request.node.get_closest_marker("mockscim")
    overrides = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.mockscim takes keyword arguments only (fixture=, scenario=, profile=)")
    base = request.path.parent
    scenario = _scenario_path(overrides.pop("scenario", None), base)
    if "fixture" in overrides:
        overrides["fixture"] = _fixture_path(overrides["fixture"], base)
    server = _mockscim_pool.get(**overrides)
    server.reset()
    if scenario is not None:
        server.scenario(scenario)
    yield server
    problems = server.problems()
    if problems:
        listed = "\n- ".join(problems)
        pytest.fail(f"mockscim: {len(problems)} server-side problem(s) during {request.node.nodeid}:\n- {listed}",
                    pytrace=False)


@pytest.fixture
def mockscim(_mockscim_test: MockScim) -> MockScim:
    """A live mockscim (a :class:`~mockscim.MockScim`), started once per session and reset for this test."""
    return _mockscim_test.start()


@pytest.fixture
def mockscim_app(_mockscim_test: MockScim) -> Starlette:
    """The ASGI app of this test's server, reset, for in-process clients (``httpx.ASGITransport``); no socket."""
    return _mockscim_test.app
