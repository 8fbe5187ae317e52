"""``create_app(settings)``: the Starlette app built from plain data — routes, middleware, exception handlers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from mockscim import jsontext
from mockscim.core import Core
from mockscim.endpoints import control, discovery, oauth, scim, secretserver
from mockscim.errors import ScimError
from mockscim.http import on_http_error, on_scim_error
from mockscim.journal import Journal
from mockscim.middleware.auth import AuthMiddleware
from mockscim.middleware.faults import FaultsMiddleware, ScenarioSlot
from mockscim.middleware.guard import GuardMiddleware
from mockscim.middleware.journal import JournalMiddleware
from mockscim.profile import load_profile
from mockscim.scenarios import resolve
from mockscim.settings import Settings
from mockscim.store import Store
from mockscim.store.memory import MemoryStore
from mockscim.tokens import TokenRegistry

FIXTURE_DIR = Path(__file__).parent / "data" / "fixtures"


def fixture_path(path: str | None) -> Path:
    """The fixture file: ``path``, a shipped fixture name (``default``, ``empty``), or the default one."""
    candidate = FIXTURE_DIR / f"{path or 'default'}.json"
    return candidate if candidate.is_file() else Path(str(path))


def read_fixture(path: str | None) -> str:
    """The fixture's JSON text."""
    return fixture_path(path).read_text(encoding="utf-8")


_KEEP_IN_MEMORY = 1 << 20


def fixture_source(path: str | None) -> Callable[[], str]:
    """Where reset (SPEC §12) gets the fixture's text: kept in memory when small (reset in milliseconds), read
    again from the file when large (a 100k-user fixture kept as text would cost ~80 MB for the server's life)."""
    file = fixture_path(path)
    text = file.read_text(encoding="utf-8")
    if len(text) <= _KEEP_IN_MEMORY:
        return lambda: text
    return lambda: file.read_text(encoding="utf-8")


def load_fixture(path: str | None) -> Any:
    """The fixture parsed: a state document (SPEC §13)."""
    return jsontext.loads(read_fixture(path))


def open_store(settings: Settings) -> Store:
    """The store ``--store`` names: ``memory`` or a TinyDB file."""
    if settings.store == "memory":
        return MemoryStore()
    from mockscim.store.durable import DurableStore

    return DurableStore(settings.store)


def _prefixed(prefix: str, routes: list[BaseRoute]) -> list[BaseRoute]:
    """``routes`` under ``prefix`` as plain routes: the SCIM API is the hot path, and a Mount would route every
    request through a second router (same matching, same 404/405 handling, one layer less)."""
    out: list[BaseRoute] = []
    for route in routes:
        assert isinstance(route, Route)
        out.append(Route(prefix + route.path, route.endpoint, methods=sorted(route.methods or ())))
    return out


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Starlette:
    """Build the whole server from ``settings`` (SPEC §14). Nothing registers itself at import time."""
    settings = settings or Settings()
    profile = load_profile(settings.profile)
    tokens = TokenRegistry(static_token=settings.token, ttl=settings.token_ttl, grace=settings.token_grace)
    fixture = fixture_source(settings.fixture)
    store = store or open_store(settings)
    core = Core(store=store, profile=profile, fixture=fixture, tokens=tokens,
                secret_server_default=not settings.secret_server_down)
    if not getattr(store, "loaded_from_disk", False):
        core.reset()
    errors: list[BaseException] = []

    routes = [
        Route("/identity/api/oauth2/token/xpmplatform", oauth.token, methods=["POST"]),
        *_prefixed("/scim/v2", [*scim.routes(profile), *discovery.routes()]),
        Mount("/_mockscim", routes=control.routes()),
        *secretserver.routes(),  # SPEC §1, §9: the Secret Server facade and Platform mode
    ]
    # SPEC §10, §12: the active scenario (started now, when --scenario names one) and the request journal.
    scenario = ScenarioSlot(resolve(settings.scenario) if settings.scenario else None)
    journal = Journal(settings.journal_size, settings.journal_file)
    # Outer → inner: Journal (request id, timing), Guard (500s), Faults (before Auth: `token: expire` meets 401).
    middleware = [
        Middleware(JournalMiddleware, journal=journal),
        Middleware(GuardMiddleware, errors=errors),
        Middleware(FaultsMiddleware, slot=scenario, core=core, tokens=tokens, max_body=settings.max_body),
        Middleware(AuthMiddleware, core=core, tokens=tokens, admin_token=settings.admin_token),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ScimError: on_scim_error, HTTPException: on_http_error},
    )
    app.state.settings = settings
    app.state.core = core
    app.state.tokens = tokens
    app.state.errors = errors
    app.state.scenario = scenario
    app.state.journal = journal
    return app
