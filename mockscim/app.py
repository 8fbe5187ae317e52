"""``create_app(settings)``: the Starlette app built from plain data — routes, middleware, exception handlers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from mockscim import control, oauth, secretserver
from mockscim.api import discovery, scim
from mockscim.auth import TokenRegistry
from mockscim.core import Core, check_stored_state
from mockscim.http.errors import RenderErrors
from mockscim.http.runtime import Runtime
from mockscim.journal import Journal
from mockscim.middleware.auth import AuthMiddleware
from mockscim.middleware.edge import HostMiddleware, PrefixMiddleware
from mockscim.middleware.faults import FaultsMiddleware
from mockscim.middleware.guard import GuardMiddleware
from mockscim.middleware.journal import JournalMiddleware
from mockscim.scenarios import ScenarioSlot, resolve
from mockscim.scim.profile import load_profile
from mockscim.settings import Settings
from mockscim.store import Store
from mockscim.store.memory import MemoryStore
from mockscim.surfaces import CONTROL_ROOT, SCIM_ROOT
from mockscim.util import jsontext
from mockscim.util.shipped import fixtures_dir

FIXTURE_DIR = fixtures_dir()
"""The shipped fixtures (docs/behaviour.md §13), one ``<name>.json`` each: what ``--fixture NAME`` names."""


def fixture_path(path: str | None) -> Path:
    """The fixture file: ``path``, a shipped fixture name (``default``, ``empty``), or the default one."""
    candidate = FIXTURE_DIR / f"{path or 'default'}.json"
    return candidate if candidate.is_file() else Path(str(path))


def read_fixture(path: str | None) -> str:
    """The fixture's JSON text."""
    return fixture_path(path).read_text(encoding="utf-8")


_KEEP_IN_MEMORY = 1 << 20


def fixture_source(path: str | None) -> Callable[[], str | bytes]:
    """Where reset (docs/behaviour.md §12) gets the fixture's text: kept in memory when small (reset in milliseconds),
    read again from the file when large (a 100k-user fixture kept as text would cost ~80 MB for the server's life)."""
    file = fixture_path(path)
    if file.stat().st_size > _KEEP_IN_MEMORY:
        return file.read_bytes  # bytes: parsed as they are, not decoded and encoded again first (jsontext.loads)
    text = file.read_text(encoding="utf-8")
    return lambda: text


def fixture_stamp(path: str | None) -> Callable[[], object]:
    """What says the fixture may have changed since it was read: nothing for a small one (its text is kept), the
    file's size and modification time for a large one (read again at reset, docs/behaviour.md §12)."""
    file = fixture_path(path)
    if file.stat().st_size <= _KEEP_IN_MEMORY:
        return lambda: None

    def stamp() -> object:
        try:
            info = file.stat()
        except OSError:
            return None
        return (info.st_size, info.st_mtime_ns)

    return stamp


def load_fixture(path: str | None) -> Any:
    """The fixture parsed: a state document (docs/behaviour.md §13)."""
    return jsontext.loads(read_fixture(path))


def open_store(settings: Settings) -> Store:
    """The store ``--store`` names: ``memory`` or a TinyDB file (checked as a state by the core when it opens)."""
    if settings.store == "memory":
        return MemoryStore()
    from mockscim.store.durable import DurableStore

    return DurableStore(settings.store, validate=check_stored_state)


def _prefixed(prefix: str, routes: list[BaseRoute]) -> list[BaseRoute]:
    """``routes`` under ``prefix`` as plain routes: the SCIM API is the hot path, and a Mount would route every
    request through a second router (same matching, same 404/405 handling, one layer less)."""
    out: list[BaseRoute] = []
    for route in routes:
        assert isinstance(route, Route)
        out.append(Route(prefix + route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name))
    return out


class App(Starlette):
    """Starlette, with the middleware stack built of ``middleware`` and the router alone.

    Starlette puts two layers of its own around every request: ``ServerErrorMiddleware`` outermost and
    ``ExceptionMiddleware`` around the router, each wrapping ``send`` (and the second building a request object)
    on every request, 23k instructions of a 320k GET. Here ``GuardMiddleware`` answers what escapes (the 500,
    docs/behaviour.md §7) and :class:`~mockscim.http.errors.RenderErrors` renders the surfaces' errors, reading
    whether the response started from the request state instead.
    """

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = RenderErrors(self.router)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Starlette:
    """Build the whole server from ``settings`` (docs/behaviour.md §14). Nothing registers itself at import time."""
    settings = settings or Settings()
    profile = load_profile(settings.profile)
    tokens = TokenRegistry(static_token=settings.token, ttl=settings.token_ttl, grace=settings.token_grace)
    core = Core(store=store or open_store(settings), profile=profile, fixture=fixture_source(settings.fixture),
                fixture_stamp=fixture_stamp(settings.fixture),
                tokens=tokens, secret_server_default=not settings.secret_server_down)
    core.start()
    runtime = Runtime(
        settings=settings,
        core=core,
        tokens=tokens,
        # docs/behaviour.md §10, §12: the active scenario (started now when --scenario names one), the journal.
        journal=Journal(settings.journal_size, settings.journal_file, settings.journal_body_bytes),
        scenario=ScenarioSlot(resolve(settings.scenario) if settings.scenario else None),
        scenario_dirs=[Path(settings.scenario_dir)] if settings.scenario_dir else [],
    )
    # One route table per surface, each at the root the surface map gives it (docs/behaviour.md §1).
    routes = [
        *_prefixed(SCIM_ROOT, [*scim.routes(profile), *discovery.routes()]),
        *oauth.routes(),
        Mount(CONTROL_ROOT, routes=control.routes()),
        *secretserver.routes(),
    ]
    # Outer → inner: Journal (the request's state: id and surface, classified once; timing; the entry), Host (names
    # the server answers to; control-plane requests a web page could make: 403/415 before anything is read), Guard
    # (500s), Faults (before Auth: a `token: expire` request meets its own 401), Auth (the caller, resolved once, by
    # whichever of the two asks first; 401s).
    # docs/behaviour.md §14: --secret-server-path is applied before the request is classified (no layer without it).
    prefix = [Middleware(PrefixMiddleware, prefix=settings.secret_server_path)] if settings.secret_server_path else []
    middleware = [
        *prefix,
        Middleware(JournalMiddleware, journal=runtime.journal),
        Middleware(HostMiddleware, hosts=runtime.hosts),  # docs/behaviour.md §12, §14: journaled, then refused
        Middleware(GuardMiddleware, errors=runtime.errors),
        Middleware(FaultsMiddleware, slot=runtime.scenario, core=core, tokens=tokens, max_body=settings.max_body),
        Middleware(AuthMiddleware, core=core, admin_token=settings.admin_token),
    ]
    app = App(routes=routes, middleware=middleware)
    app.state.runtime = runtime
    return app
