"""The control plane under ``/_mockscim`` (SPEC §12): health, reset, state, Secret Server switch."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mockscim import __version__
from mockscim.core import Core
from mockscim.state import StateError


def _core(request: Request) -> Core:
    core: Core = request.app.state.core
    return core


def error(message: str, status: int = 400) -> JSONResponse:
    """Control-plane errors are ``{"error": "…"}`` (SPEC §7, §12)."""
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request: Request) -> Any:
    """The JSON body, or raise ValueError with a readable reason (bounded by ``--max-body``)."""
    limit = request.app.state.settings.max_body
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise ValueError(f"body larger than {limit} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed JSON: {exc}") from None


async def health(request: Request) -> Response:
    core = _core(request)
    return JSONResponse({
        "status": "ok",
        "version": __version__,
        "profile": core.profile.name,
        "secretServer": "up" if core.secret_server_up else "down",
    })


async def reset(request: Request) -> Response:
    """Back to the start-up fixture; Secret Server to its start-up availability; revocations cleared."""
    core = _core(request)
    core.reset()
    await core.store.sync()
    return JSONResponse({"status": "reset"})


async def state(request: Request) -> Response:
    core = _core(request)
    if request.method == "GET":
        return JSONResponse(core.export_state())
    try:
        raw = await read_body(request)
        core.load_state(raw)
    except (ValueError, StateError) as exc:
        return error(f"invalid state: {exc}")
    await core.store.sync()
    return JSONResponse({"status": "loaded", "counts": {k: core.store.count(k) for k in raw or {}}})


async def secret_server(request: Request) -> Response:
    """``PUT {"available": false|true}`` switches Secret Server (SPEC §8); GET tells."""
    core = _core(request)
    if request.method == "PUT":
        try:
            body = await read_body(request)
        except ValueError as exc:
            return error(str(exc))
        if not isinstance(body, dict) or not isinstance(body.get("available"), bool):
            return error('expected {"available": true|false}')
        core.secret_server_up = body["available"]
    return JSONResponse({"available": core.secret_server_up})


def routes() -> list[BaseRoute]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/state", state, methods=["GET", "PUT"]),
        Route("/secret-server", secret_server, methods=["GET", "PUT"]),
    ]
