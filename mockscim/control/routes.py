"""The control plane (docs/behaviour.md §12): health, reset, state, Secret Server, scenario, journal, dashboard."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from mockscim import __version__
from mockscim.control import openapi
from mockscim.control.dashboard import PAGE
from mockscim.core import Core, StateError
from mockscim.http.errors import ControlError
from mockscim.http.responses import JsonResponse
from mockscim.http.runtime import runtime_of
from mockscim.journal import Journal, Query
from mockscim.scenarios import SHIPPED_DIR, Scenario, ScenarioError, ScenarioSlot, load_scenario, shipped
from mockscim.util import jsontext


def _core(request: Request) -> Core:
    return runtime_of(request).core


def error(message: str, status: int = 400) -> ControlError:
    """A control-plane error, answered as ``{"error": "…"}`` (docs/behaviour.md §7, §12)."""
    return ControlError(status, message)


async def read_raw(request: Request) -> bytes:
    """The body, or raise ValueError when it is larger than ``--max-body``."""
    limit = runtime_of(request).settings.max_body
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ValueError(f"body larger than {limit} bytes")
    return bytes(raw)


async def read_body(request: Request) -> Any:
    """The JSON body, or raise ValueError with a readable reason (bounded by ``--max-body``)."""
    return jsontext.loads(await read_raw(request))  # a JsonTextError is a ValueError with a readable reason


_YAML_TYPES = frozenset({"application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"})


async def read_scenario_body(request: Request) -> Any:
    """A scenario document: YAML with a YAML ``Content-Type`` (RFC 9512), else JSON (docs/behaviour.md §12)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _YAML_TYPES:
        return await read_body(request)
    raw = await read_raw(request)
    try:
        return yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("malformed YAML: not UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not a YAML document"
        raise ValueError(f"malformed YAML{where}: {problem}") from None


async def health(request: Request) -> Response:
    """``{"status": "ok", …, "store": "ok"}``; 503 with ``"store": "failing"`` and the reason while the store's disk
    refuses writes (docs/behaviour.md §13)."""
    core = _core(request)
    failure = core.store.failure
    body = {
        "status": "ok" if failure is None else "failing",
        "version": __version__,
        "profile": core.profile.name,
        "secretServer": "up" if core.secret_server_up else "down",
        "store": "ok" if failure is None else "failing",
    }
    if failure is not None:
        body["storeError"] = failure
    return JsonResponse(body, status_code=200 if failure is None else 503)


async def reset(request: Request) -> Response:
    """Back to the start-up fixture; Secret Server to its start-up availability; revocations cleared."""
    await _core(request).reset()
    return JsonResponse({"status": "reset"})


async def state(request: Request) -> Response:
    core = _core(request)
    if request.method == "GET":
        return JsonResponse(core.export_state())
    try:
        raw = await read_body(request)
        await core.load_state(raw)
    except (ValueError, StateError) as exc:
        raise error(f"invalid state: {exc}") from None
    return JsonResponse({"status": "loaded", "counts": {k: core.store.count(k) for k in raw or {}}})


async def secret_server(request: Request) -> Response:
    """``PUT {"available": false|true}`` switches Secret Server (docs/behaviour.md §8); GET tells."""
    core = _core(request)
    if request.method == "PUT":
        try:
            body = await read_body(request)
        except ValueError as exc:
            raise error(str(exc)) from None
        if not isinstance(body, dict) or not isinstance(body.get("available"), bool):
            raise error('expected {"available": true|false}')
        core.secret_server_up = body["available"]
    return JsonResponse({"available": core.secret_server_up})


def _slot(request: Request) -> ScenarioSlot:
    return runtime_of(request).scenario


def _journal(request: Request) -> Journal:
    return runtime_of(request).journal


_QUOTED = re.compile(r"""(?<!key )('[^']*'|"[^"]*")""")
_GOT_VALUE = re.compile(r"\bgot (?:-?[0-9][0-9.eE+-]*|True|False|None)\b")


def _without_values(message: str) -> str:
    """A scenario file's validation error without the values read from it (docs/behaviour.md §12): the file, the rule
    index and the key stay; quoted values and numbers given become ``…``."""
    return _GOT_VALUE.sub("got …", _QUOTED.sub("'…'", message))


def _scenario_file(given: str, dirs: Sequence[Path]) -> Scenario:
    """``{"path": given}``: read only from the working directory or a scenario directory (docs/behaviour.md §12), a
    link resolved before the check; errors name the file but never echo what is in it."""
    cwd = Path.cwd().resolve()
    path = (cwd / os.path.expanduser(given)).resolve()
    if not any(path.is_relative_to(d) for d in (cwd, *(d.resolve() for d in dirs))):
        where = "the working directory" + (" or --scenario-dir" if dirs else " (see --scenario-dir)")
        raise ScenarioError(f"scenario file {given!r} is outside {where}: not read")
    if not path.is_file():
        raise ScenarioError(f"no such scenario file {given!r}")
    try:
        return load_scenario(path, origin=given)
    except ScenarioError as exc:
        source = f"{given}: "
        text = str(exc)
        raise ScenarioError(source + _without_values(text.removeprefix(source))) from None


def choose_scenario(body: Any, dirs: Sequence[Path] = ()) -> Scenario:
    """What ``POST /_mockscim/scenario`` names (docs/behaviour.md §12): a shipped ``name``, a file ``path`` (under the
    working directory or one of ``dirs``), or an inline object."""
    if isinstance(body, dict) and "rules" in body:
        return load_scenario(body)  # errors name "inline", the rule index and the key
    if isinstance(body, dict) and set(body) == {"name"} and isinstance(body["name"], str):
        name = body["name"]
        path = SHIPPED_DIR / f"{name}.yaml"
        if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
            known = ", ".join(sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")))
            raise ScenarioError(f"unknown scenario {name!r} (shipped: {known})")
        return load_scenario(path)
    if isinstance(body, dict) and set(body) == {"path"} and isinstance(body["path"], str):
        return _scenario_file(body["path"], dirs)
    raise ScenarioError('expected {"name": "<shipped scenario>"}, {"path": "<file>"} or a scenario object with "rules"')


async def scenario(request: Request) -> Response:
    """GET the active scenario with each rule's budget, POST to activate (afresh), DELETE to deactivate."""
    slot = _slot(request)
    if request.method == "DELETE":
        slot.deactivate()  # idempotent (docs/behaviour.md §12)
        return Response(status_code=204)
    if request.method == "POST":
        try:
            chosen = choose_scenario(await read_scenario_body(request), runtime_of(request).scenario_dirs)
        except (ValueError, ScenarioError) as exc:
            raise error(str(exc)) from None  # the active scenario stays
        slot.activate(chosen)
    active = slot.active
    return JsonResponse({"active": active.status() if active is not None else None})


async def scenarios(request: Request) -> Response:
    """The shipped scenarios, by name."""
    return JsonResponse({"scenarios": [{"name": s.name, "description": s.description} for s in shipped()]})


async def journal(request: Request) -> Response:
    """``GET ?status=&method=&path=&since=&limit=`` → ``{"total", "entries"}`` (newest last); DELETE clears."""
    if request.method == "DELETE":
        _journal(request).clear()
        return Response(status_code=204)
    try:
        total, entries = _journal(request).query(Query.parse(request.query_params))
    except ValueError as exc:
        raise error(str(exc)) from None
    return JsonResponse({"total": total, "entries": entries})


async def openapi_json(request: Request) -> Response:
    """``GET /_mockscim/openapi.json``: the OpenAPI 3.1 document of the control plane (docs/behaviour.md §12)."""
    return JsonResponse(openapi.document())


async def journal_entry(request: Request) -> Response:
    """``GET /_mockscim/journal/{requestId}``: one entry with its bodies; unknown → 404 (docs/behaviour.md §12)."""
    request_id = request.path_params["request_id"]
    entry = _journal(request).get(request_id)
    if entry is None:
        raise error(f"no journal entry {request_id!r}", 404)
    return JsonResponse(entry)


async def dashboard(request: Request) -> Response:
    """``GET /_mockscim/``: the live dashboard (docs/behaviour.md §12); its data comes from the API it calls."""
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard, methods=["GET"]),
        Route("/scenario", scenario, methods=["GET", "POST", "DELETE"]),
        Route("/scenarios", scenarios, methods=["GET"]),
        Route("/journal", journal, methods=["GET", "DELETE"]),
        Route("/journal/{request_id}", journal_entry, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/state", state, methods=["GET", "PUT"]),
        Route("/secret-server", secret_server, methods=["GET", "PUT"]),
    ]
