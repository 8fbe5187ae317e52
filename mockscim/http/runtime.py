"""The running server's parts, typed, in one object on ``app.state.runtime`` (built by ``create_app``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import HTTPConnection

from mockscim.auth import TokenRegistry
from mockscim.core import Core
from mockscim.http.hosts import Hosts
from mockscim.journal import Journal
from mockscim.scenarios import ScenarioSlot
from mockscim.settings import Settings

__all__ = ["Runtime", "runtime_of"]


@dataclass(frozen=True, eq=False)
class Runtime:
    """What endpoints, middleware and the test harness share: the data, the tokens, the journal, the scenario slot,
    the settings it was built from, and the unexpected exceptions caught so far (the pytest plugin fails the test
    that caused one)."""

    settings: Settings
    core: Core
    tokens: TokenRegistry
    journal: Journal
    scenario: ScenarioSlot
    errors: list[BaseException] = field(default_factory=list)
    hosts: Hosts = field(init=False)
    """Who the server is on the wire (docs/behaviour.md §14), from ``settings``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosts", Hosts.of(self.settings))
    scenario_dirs: list[Path] = field(default_factory=list)
    """Where ``{"path": …}`` scenarios may be read from besides the working directory (docs/behaviour.md §12):
    ``--scenario-dir``, and the directories of files the in-process harness (``MockScim``) was handed in Python."""


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The runtime of the app serving ``connection`` (a request)."""
    runtime: Runtime = connection.scope["app"].state.runtime  # scope["app"]: what `.app` reads, one call fewer
    return runtime
