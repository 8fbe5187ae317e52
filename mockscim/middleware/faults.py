"""Applies the active scenario (docs/behaviour.md §10): what the rules see; then delay, state change, fail or drop."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockscim.auth import TokenRegistry
from mockscim.core import Core
from mockscim.http.context import RequestState, state_of
from mockscim.http.errors import Problem, answer
from mockscim.middleware.auth import resolve_caller
from mockscim.scenarios import ActiveScenario, Effect, RequestInfo, ScenarioSlot
from mockscim.scim.errors import CATALOGUE, from_key
from mockscim.surfaces import Surface
from mockscim.util import jsontext

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_REF_EQ = re.compile(r'^\s*(container|privilegedData)\.value\s+eq\s+"([^"]*)"\s*$', re.IGNORECASE)


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
                return None  # docs/behaviour.md §7: the app still sees every byte and answers 413
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
    """``send`` that sets ``extra`` on the response, replacing same-named headers (docs/behaviour.md §10
    ``headers``)."""
    names = {name.lower().encode("latin-1") for name in extra}
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
            message = {**message, "headers": [*kept, *encoded]}
        await send(message)

    return send_with_headers


class _Held:
    """Holds an ``apply_then_fail`` request's real response: swallowed when the handling succeeded, sent as it is
    when the handling itself failed (docs/behaviour.md §10: a retry meets its 409, a 404, a 400)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 0

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        self.messages.append(message)

    @property
    def failed(self) -> bool:
        return self.status >= 400

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _ref(doc: Mapping[str, Any] | None, attribute: str) -> str | None:
    value = doc.get(attribute) if doc is not None else None
    ref = value.get("value") if isinstance(value, Mapping) else None
    return None if ref is None else str(ref)


class FaultsMiddleware:
    """Applies the rule that fires for a request (docs/behaviour.md §10); one attribute check when no scenario is
    active.

    It runs before authentication, so a ``token: expire`` request itself meets the 401, and it never enforces
    auth itself. Effects, in order: ``latency``; state changes; then ``drop_connection``, an ``error``/``status``
    answer, ``apply_then_fail`` (handled and committed, then the error; with ``drop_connection`` the connection
    drops after the write; when the handling itself fails, that failure is the answer), or normal handling.
    ``headers`` go on whatever answers.
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
        if active is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = state_of(scope)
        if not state.target.faultable:
            await self.app(scope, receive, send)
            return
        await self._apply(active, state, scope, receive, send)

    async def _apply(self, active: ActiveScenario, state: RequestState, scope: Scope, receive: Receive,
                     send: Send) -> None:
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
        info = RequestInfo(
            method=method,
            path=scope["path"],
            headers=headers,
            principal=self._caller(state, scope),
            filter=raw_filter,
            body=document,
            target=state.target,
        )
        decision = active.decide(info)
        if decision is None:
            await self.app(scope, body.receive, send)
            return
        state.rule = decision.tag  # the journal's `rule` (docs/behaviour.md §12)
        effect = decision.effect
        if effect.headers:
            send = _with_headers(send, effect.headers)
        if effect.latency:
            await asyncio.sleep(effect.latency)  # docs/behaviour.md §10: waits first, without blocking others
        await self._change_state(effect, info, body, scope, state)
        if effect.apply_then_fail:
            held = _Held()
            await self.app(scope, body.receive, held.send)  # a success is committed; the client never sees it
            if held.failed:
                await held.replay(send)  # nothing was written: the client meets the real failure (the rule fired)
                return
        if effect.drop_connection:
            # docs/behaviour.md §10: start the response, then return without its body; uvicorn closes the
            # connection and the journal records status 0 (the response never completed).
            await send({"type": "http.response.start", "status": 500, "headers": []})
            return
        key = effect.error or effect.apply_then_fail
        if key is not None or effect.status is not None:
            await answer(scope, self._problem(effect, key, info, state))(scope, body.receive, send)
            return
        await self.app(scope, body.receive, send)

    def _caller(self, state: RequestState, scope: Scope) -> str | None:
        """The userName the ``principal`` matcher sees: the request's caller, if any (resolved once)."""
        principal = resolve_caller(state, scope, self.core)
        return principal.user_name if principal is not None else None

    async def _change_state(self, effect: Effect, info: RequestInfo, body: _Body, scope: Scope,
                            state: RequestState) -> None:
        """docs/behaviour.md §10: state changes happen first; the request then meets the new state."""
        core = self.core
        if effect.secret_server is not None:
            core.secret_server_up = effect.secret_server == "up"
        token = state.token
        if effect.token == "expire" and token and self.tokens.resolve(token) != ("static", None):
            self.tokens.expire(token)  # the static token never expires
            state.principal = None  # the request itself meets the 401
        if effect.owner is not None:
            container = effect.container or await self._addressed_container(info, body, scope)
            principal = effect.principal or self._caller(state, scope)
            if container is None or principal is None:
                return  # docs/behaviour.md §10: no container (or nobody) named → nothing changes
            pair = (str(container), principal.lower())
            with core.store.lock:  # readers of `revoked` hold the store lock
                if effect.owner == "revoke":
                    core.revoked.add(pair)
                else:
                    core.revoked.discard(pair)

    async def _addressed_container(self, info: RequestInfo, body: _Body, scope: Scope) -> str | None:
        """The container a request addresses (docs/behaviour.md §10): ``/Containers/{id}``, a ContainerPermission's
        container, an addressed secret's container (SCIM or the facade's ``/api/v1/secrets/{id}``), a facade folder."""
        store = self.core.store
        target = info.target
        assert target is not None
        if target.surface is Surface.SECRET_SERVER:
            if target.kind == "Containers":
                return target.id
            return _ref(store.get("PrivilegedData", target.id), "container") if target.kind and target.id else None
        resource, rid = info.resource, target.id
        if resource == "Containers":
            return rid
        # `container.value eq "3"` (docs/behaviour.md §4)
        found = _REF_EQ.match(info.filter or "") if rid is None else None
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

    def _problem(self, effect: Effect, key: str | None, info: RequestInfo, state: RequestState) -> Problem:
        """The error a rule answers with (docs/behaviour.md §7, §10): a catalogue entry, or ``status``/``detail`` as
        given; the id in the path, else the raw filter, fills the entry's ``{0}``."""
        if key is not None:
            err = from_key(key, state.target.id or info.filter or "")
            status, detail, scim_type, extra = err.status, err.detail, err.scim_type, err.headers
        else:
            status, scim_type, extra = int(effect.status or 500), None, {}
            detail = _default_detail(status)
        return Problem(status, effect.detail if effect.detail is not None else detail, key=key,
                       scim_type=effect.scim_type if effect.scim_type is not None else scim_type, headers=extra)


def _default_detail(status: int) -> str:
    """A ``status`` rule without ``detail``: the catalogue's text when exactly one fixed text has that status."""
    texts = [cls.template for cls in CATALOGUE.values() if cls.status == status]
    if len(texts) == 1 and "{0}" not in texts[0]:
        return texts[0]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return f"HTTP {status}."
