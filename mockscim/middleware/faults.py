"""Applies the active scenario (SPEC §10): builds what the rules see, then delays, changes state, fails or drops."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim import jsontext
from mockscim.context import state_of
from mockscim.core import Core
from mockscim.errors import CATALOGUE, error_body, from_key
from mockscim.http import ScimResponse
from mockscim.middleware.auth import bearer
from mockscim.scenarios import ActiveScenario, Effect, RequestInfo, Scenario, in_scope
from mockscim.tokens import TokenRegistry

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_REF_EQ = re.compile(r'^\s*(container|privilegedData)\.value\s+eq\s+"([^"]*)"\s*$', re.IGNORECASE)
_FACADE = re.compile(r"^(?:/platform)?/api/v[12]/(secrets|folders)/(\d+)(?:/|$)")


class ScenarioSlot:
    """The app's active scenario (``app.state.scenario``); activating replaces it whole, with fresh budgets."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.active: ActiveScenario | None = None
        if scenario is not None:
            self.activate(scenario)

    def activate(self, scenario: Scenario) -> ActiveScenario:
        """Start ``scenario``: its clock, budgets and random generator start afresh (SPEC §10)."""
        self.active = ActiveScenario(scenario)
        return self.active

    def deactivate(self) -> None:
        self.active = None


class _Body:
    """The request body, read at most once (bounded by ``max_body``) and replayed to the app message by message."""

    def __init__(self, receive: Receive, max_body: int) -> None:
        self._receive = receive
        self._max_body = max_body
        self._buffered: deque[Message] = deque()
        self._loaded = False
        self._raw: bytes | None = None

    async def load(self) -> bytes | None:
        """The whole body, or None when it is over ``max_body`` or the client left (the app then answers that)."""
        if self._loaded:
            return self._raw
        self._loaded = True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            self._buffered.append(message)
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_body:
                return None  # SPEC §7: the app still sees every byte and answers 413
            if not message.get("more_body", False):
                break
        self._raw = b"".join(chunks)
        return self._raw

    async def json(self, scope: Scope) -> dict[str, Any] | None:
        """Top-level attributes of a JSON object or a form-encoded body (the token endpoints), else None."""
        raw = await self.load()
        if not raw:
            return None
        media = Headers(scope=scope).get("content-type", "").split(";", 1)[0].strip().lower()
        try:
            if media == "application/x-www-form-urlencoded":
                return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            body = jsontext.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    async def receive(self) -> Message:
        if self._buffered:
            return self._buffered.popleft()
        return await self._receive()


def _with_headers(send: Send, extra: Mapping[str, str]) -> Send:
    """``send`` that sets ``extra`` on the response, replacing same-named headers (SPEC §10 ``headers``)."""
    names = {name.lower().encode("latin-1") for name in extra}
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
            message = {**message, "headers": [*kept, *encoded]}
        await send(message)

    return send_with_headers


async def _swallow(message: Message) -> None:
    """Where an ``apply_then_fail`` request's real response goes."""


def _ref(doc: Mapping[str, Any] | None, attribute: str) -> str | None:
    value = doc.get(attribute) if doc is not None else None
    ref = value.get("value") if isinstance(value, Mapping) else None
    return None if ref is None else str(ref)


class FaultsMiddleware:
    """Applies the rule that fires for a request (SPEC §10); one attribute check when no scenario is active.

    It runs before authentication, so a ``token: expire`` request itself meets the 401, and it never enforces
    auth itself. Effects, in order: ``latency``; state changes; then ``drop_connection``, an ``error``/``status``
    answer, ``apply_then_fail`` (handled and committed, then the error; with ``drop_connection`` the connection
    drops after the write), or normal handling. ``headers`` go on whatever answers.
    """

    def __init__(self, app: ASGIApp, *, slot: ScenarioSlot, core: Core, tokens: TokenRegistry,
                 max_body: int) -> None:
        self.app = app
        self.slot = slot
        self.core = core
        self.tokens = tokens
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        active = self.slot.active
        if active is None or scope["type"] != "http" or not in_scope(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self._apply(active, scope, receive, send)

    async def _apply(self, active: ActiveScenario, scope: Scope, receive: Receive, send: Send) -> None:
        body = _Body(receive, self.max_body)
        method: str = scope["method"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text  # RFC 9110 §5.3
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        document = await body.json(scope) if active.needs_body and method in _WITH_BODY else None
        raw_filter = params.get("filter")
        if raw_filter is None and document is not None and isinstance(document.get("filter"), str):
            raw_filter = document["filter"]  # POST /.search carries it in the body (RFC 7644 §3.4.3)
        token = bearer(scope)
        wants_principal = any(rule.match.principal for rule in active.scenario.rules)
        info = RequestInfo(
            method=method,
            path=scope["path"],
            headers=headers,
            principal=self._caller(token) if wants_principal else None,
            filter=raw_filter,
            body=document,
        )
        decision = active.decide(info)
        if decision is None:
            await self.app(scope, body.receive, send)
            return
        state_of(scope).rule = decision.tag  # the journal's `rule` (SPEC §12)
        effect = decision.effect
        if effect.headers:
            send = _with_headers(send, effect.headers)
        if effect.latency:
            await asyncio.sleep(effect.latency)  # SPEC §10: waits first, without blocking other requests
        await self._change_state(effect, info, body, scope, token)
        if effect.apply_then_fail:
            await self.app(scope, body.receive, _swallow)  # the write is committed; the client never sees it
        if effect.drop_connection or effect.error or effect.status is not None:
            self._identify(scope, token)  # answered before AuthMiddleware: the journal still names a valid caller
        if effect.drop_connection:
            # SPEC §10: start the response, then return without its body; uvicorn closes the connection and the
            # journal records status 0 (the response never completed).
            await send({"type": "http.response.start", "status": 500, "headers": []})
            return
        key = effect.error or effect.apply_then_fail
        if key is not None or effect.status is not None:
            await self._error(effect, key, info, scope)(scope, body.receive, send)
            return
        await self.app(scope, body.receive, send)

    def _caller(self, token: str | None) -> str | None:
        """The userName behind ``token`` (auth is not enforced here: AuthMiddleware does that next)."""
        resolved = self.tokens.resolve(token) if token else None
        if resolved is None:
            return None
        if resolved[0] == "static":
            principal = self.core.principal(None)  # SPEC §2: the first service user
            return principal.user_name if principal is not None else None
        return resolved[1]

    def _identify(self, scope: Scope, token: str | None) -> None:
        """Record the caller a live token names, as AuthMiddleware would (the journal's ``principal``, SPEC §12)."""
        resolved = self.tokens.resolve(token) if token else None
        principal = self.core.principal(resolved[1]) if resolved is not None else None
        if principal is not None:
            state = state_of(scope)
            state.principal, state.token = principal, token

    async def _change_state(self, effect: Effect, info: RequestInfo, body: _Body, scope: Scope,
                            token: str | None) -> None:
        """SPEC §10: state changes happen first; the request then meets the new state."""
        core = self.core
        if effect.secret_server is not None:
            core.secret_server_up = effect.secret_server == "up"
        if effect.token == "expire" and token and self.tokens.resolve(token) != ("static", None):
            self.tokens.expire(token)  # the static token never expires
        if effect.owner is not None:
            container = effect.container or await self._addressed_container(info, body, scope)
            principal = effect.principal or self._caller(token)
            if container is None or principal is None:
                return  # SPEC §10: no container (or nobody) named → nothing changes
            pair = (str(container), principal.lower())
            with core.store.lock:  # readers of `revoked` hold the store lock
                if effect.owner == "revoke":
                    core.revoked.add(pair)
                else:
                    core.revoked.discard(pair)

    async def _addressed_container(self, info: RequestInfo, body: _Body, scope: Scope) -> str | None:
        """The container a request addresses (SPEC §10): ``/Containers/{id}``, a ContainerPermission's container,
        an addressed secret's container (SCIM or the facade's ``/api/v1/secrets/{id}``), a facade folder."""
        store = self.core.store
        facade = _FACADE.match(info.path)
        if facade is not None:
            kind, number = facade.groups()
            return number if kind == "folders" else _ref(store.get("PrivilegedData", number), "container")
        resource, rid = info.resource, _path_id(info.path)
        if resource == "Containers":
            return rid
        found = _REF_EQ.match(info.filter or "") if rid is None else None  # `container.value eq "3"` (SPEC §4)
        named = (found.group(1).lower(), found.group(2)) if found else (None, None)
        if resource == "ContainerPermissions":
            if rid is not None:
                return _ref(store.get("ContainerPermissions", rid), "container")
            if named[0] == "container":
                return named[1]
            return _ref(await body.json(scope), "container") if info.method == "POST" else None
        if resource == "PrivilegedData":
            if rid is not None:
                return _ref(store.get("PrivilegedData", rid), "container")
            return named[1] if named[0] == "container" else None
        if resource == "PrivilegedDataPermissions":
            if rid is not None:
                secret = _ref(store.get("PrivilegedDataPermissions", rid), "privilegedData")
            elif named[0] == "privilegeddata":
                secret = named[1]
            else:
                secret = _ref(await body.json(scope), "privilegedData") if info.method == "POST" else None
            return None if secret is None else _ref(store.get("PrivilegedData", secret), "container")
        return None

    def _error(self, effect: Effect, key: str | None, info: RequestInfo, scope: Scope) -> Response:
        """The SCIM error a rule answers with (SPEC §7, §10): a catalogue entry, or ``status``/``detail`` as given."""
        arg = _path_id(info.path) or info.filter or ""  # SPEC §7: the id in the path, else the raw filter
        extra: dict[str, str] = {}
        if key is not None:
            err = from_key(key, arg)
            status, detail, scim_type, extra = err.status, err.detail, err.scim_type, err.headers
        else:
            status, detail, scim_type = int(effect.status or 500), _default_detail(int(effect.status or 500)), None
        detail = effect.detail if effect.detail is not None else detail
        scim_type = effect.scim_type if effect.scim_type is not None else scim_type
        state = state_of(scope)
        state.scim_type, state.detail = scim_type, detail
        if status < 200 or status in (204, 304):
            return Response(status_code=status, headers=extra)  # RFC 9110: these carry no content
        # SPEC §7: the catalogue shapes SCIM bodies only; the facade answers {"errorCode","message"} (a string
        # message: Delinea's SDK 2.0.1 crashes without one) and the token endpoints RFC 6749 §5.2 bodies.
        if info.resource == "SecretServer":
            code = "".join(part.capitalize() for part in (key or "scenario_error").split("_"))
            return JSONResponse({"errorCode": code, "message": detail}, status_code=status, headers=extra)
        if info.resource == "Token":
            code = key if key and status == 400 else ("temporarily_unavailable" if status == 503 else "server_error")
            return JSONResponse({"error": code, "error_description": detail}, status_code=status, headers=extra)
        return ScimResponse(error_body(status, detail, scim_type), status_code=status, headers=extra)


def _path_id(path: str) -> str | None:
    """The id a path addresses: ``/scim/v2/{Resource}/{id}``, or the number in a facade path."""
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["scim", "v2"]:
        return parts[3] if len(parts) > 3 and parts[3] != ".search" else None
    return next((part for part in parts if part.isdigit()), None)


def _default_detail(status: int) -> str:
    """A ``status`` rule without ``detail``: the catalogue's text when exactly one fixed text has that status."""
    texts = [cls.template for cls in CATALOGUE.values() if cls.status == status]
    if len(texts) == 1 and "{0}" not in texts[0]:
        return texts[0]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return f"HTTP {status}."
