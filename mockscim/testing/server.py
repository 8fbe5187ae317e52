"""``MockScim``: the real app under uvicorn on a free loopback port in a background thread (docs/behaviour.md §14)."""

from __future__ import annotations

import functools
import json
import os
import ssl
import traceback
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher, unified_diff
from fnmatch import fnmatchcase
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from starlette.applications import Starlette

from mockscim.app import create_app
from mockscim.http.runtime import Runtime
from mockscim.scenarios import ActiveScenario, ScenarioSlot
from mockscim.settings import Settings
from mockscim.testing.background import BackgroundServer
from mockscim.tls import ServerCert, ca_path, client_context

ScenarioSource = str | os.PathLike[str] | Mapping[str, Any]
_TRANSPORT_KEYS = frozenset({"transport", "verify", "cert", "trust_env", "http1", "http2", "proxy", "mounts", "limits"})
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


class _Any:
    """``body=`` not given: any body matches."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
_NEAREST = 3


class MockScimError(RuntimeError):
    """The server refused a control-plane call (an unknown scenario, invalid state, …); the message says why."""


@dataclass(frozen=True)
class JournalEntry:
    """One request as the journal recorded it (docs/behaviour.md §12); ``status`` is 0 for a dropped connection."""

    time: datetime
    request_id: str
    method: str
    path: str
    query: str
    principal: str | None
    user_agent: str | None
    status: int
    scim_type: str | None
    detail: str | None
    duration_ms: float
    rule: str | None
    request_body: Any = None
    """The body the client sent as the journal keeps it (docs/behaviour.md §12): JSON as JSON, text as a string,
    binary as ``{"base64": …}``; secrets ``"[REDACTED]"``; None without a body or once the journal dropped it."""
    response_body: Any = None
    request_headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-case names; ``Authorization`` and cookies ``"[REDACTED]"``, values capped."""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> JournalEntry:
        """Build an entry from the JSON object ``GET /_mockscim/journal`` returns."""
        return cls(
            time=datetime.fromisoformat(raw["time"]),
            request_id=raw["requestId"],
            method=raw["method"],
            path=raw["path"],
            query=raw.get("query") or "",
            principal=raw.get("principal"),
            user_agent=raw.get("userAgent"),
            status=int(raw["status"]),
            scim_type=raw.get("scimType"),
            detail=raw.get("detail"),
            duration_ms=float(raw.get("durationMs") or 0.0),
            rule=raw.get("rule"),
            request_body=(raw.get("request") or {}).get("body"),
            response_body=(raw.get("response") or {}).get("body"),
            request_headers=dict((raw.get("request") or {}).get("headers") or {}),
        )

    def describe(self) -> str:
        """``PATCH /scim/v2/Users/1?x=y → 204 (requestId)``: one line for a report."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} → {self.status} ({self.request_id})"


class Undo:
    """A change that has already happened; used as a context manager, it is undone on exit."""

    def __init__(self, undo: Callable[[], object]) -> None:
        self._undo = undo

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._undo()


class MockScim:
    """A live mockscim for tests: ``with MockScim(fixture="empty", scenario="throttled") as m: ...``.

    The keyword arguments are :class:`~mockscim.settings.Settings` fields (``fixture``, ``scenario``, ``profile``,
    ``token``, …). The app and its event loop thread exist from construction, so :attr:`app` serves in-process
    clients at once; :meth:`start` (or ``with``) adds the socket. Control calls go through the ``/_mockscim`` API
    in-process (no socket needed); :meth:`reset` does what three of them do, in one step.
    """

    def __init__(self, *, fixture: str | os.PathLike[str] | None = None, scenario: ScenarioSource | None = None,
                 profile: str = "cloud", host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        self.settings = Settings(host=host, port=port, profile=profile,
                                 fixture=None if fixture is None else os.fspath(fixture), **settings)
        problems = self.settings.problems()
        if problems:  # docs/behaviour.md §14: the same one-line reasons `mockscim serve` gives
            raise ValueError(problems[0])
        self.app: Starlette = create_app(self.settings)
        self._scenario = scenario
        self._clients: weakref.WeakSet[httpx.Client] = weakref.WeakSet()
        self._errors_seen = 0
        self._retired: list[ActiveScenario] = []  # switched away from, their expectations still count
        headers = {"Authorization": f"Bearer {self.settings.admin_token}"} if self.settings.admin_token else {}
        self._control = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://mockscim",
                                          headers=headers)
        self._background = BackgroundServer(self.app)
        self._cert: ServerCert | None = None
        try:
            if scenario is not None:
                self.scenario(scenario)
        except BaseException:
            self.stop()
            raise

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    def start(self) -> Self:
        """Listen on ``host:port`` (port 0: a free one, bound before uvicorn starts); returns once it listens."""
        tls = None
        if self.settings.tls_cert is not None and self.settings.tls_key is not None:
            tls = (self.settings.tls_cert, self.settings.tls_key)
        elif self.settings.tls and self._background.url is None:
            self._cert = self._cert or ServerCert([self.settings.host])
            tls = (str(self._cert.certfile), str(self._cert.keyfile))
        self._background.listen(self.settings.host, self.settings.port, tls=tls)
        return self

    def stop(self) -> None:
        """Close the clients handed out, stop listening and end the background thread. Idempotent."""
        for client in list(self._clients):
            client.close()
        self._background.close(self._control.aclose())
        if self._cert is not None:
            self._cert.remove()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def closed(self) -> bool:
        """True once :meth:`stop` has run: the object cannot serve again."""
        return self._background.closed

    # -- addresses ---------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The server's root, ``http://127.0.0.1:<port>``."""
        if self._background.url is None:
            raise RuntimeError("MockScim is not started: use `with MockScim() as m:` or call start()")
        return self._background.url

    @property
    def scim_url(self) -> str:
        """The SCIM base URL, ``<url>/scim/v2``."""
        return f"{self.url}/scim/v2"

    @property
    def token(self) -> str:
        """The static bearer token the server accepts (docs/behaviour.md §2)."""
        return self.settings.token

    @property
    def ca_path(self) -> Path | None:
        """With ``tls=True``: the local CA's certificate, which clients trust (``verify=``, ``SSL_CERT_FILE``)."""
        return ca_path() if self.settings.tls and self.settings.tls_cert is None else None

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` on :attr:`scim_url` with the bearer token set (trusting :attr:`ca_path` with
        ``tls=True``); closed by :meth:`stop` at the latest.

        Over plain HTTP on loopback, unless the caller configures the transport itself, the client gets one without
        a CA bundle (``httpx.Client()`` loads it for every client: ~25 ms) and without proxies from the environment.
        httpcore sets TCP_NODELAY on its sockets.
        """
        headers = {"Authorization": f"Bearer {self.token}", **dict(kwargs.pop("headers", None) or {})}
        if self.ca_path is not None and "verify" not in kwargs:
            kwargs["verify"] = client_context(self.ca_path)
        elif not _TRANSPORT_KEYS.intersection(kwargs):
            kwargs["transport"] = httpx.HTTPTransport(verify=_plain_context())
        client = httpx.Client(base_url=self.scim_url, headers=headers, **kwargs)
        self._clients.add(client)
        return client

    # -- control -----------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to start: the store to its fixture, Secret Server to its start-up availability, the journal empty,
        and the scenario given to the constructor re-activated afresh (or none)."""
        self._background.run(self._reset())
        self._errors_seen = len(self.errors)
        self._retired.clear()
        if self._scenario is not None:
            self._call("POST", "/scenario", body=self._scenario_request(self._scenario))

    async def _reset(self) -> None:
        # In one hop on the server's loop, what POST /reset, DELETE /scenario and DELETE /journal do (docs/behaviour.md
        # §12).
        runtime = self._runtime
        await runtime.core.reset()
        runtime.scenario.deactivate()
        runtime.journal.clear()

    def load_state(self, state: Mapping[str, Any] | str | os.PathLike[str]) -> None:
        """Replace the whole store with ``state``: a mapping, or a path to a state JSON file (docs/behaviour.md §13)."""
        if not isinstance(state, Mapping):
            state = json.loads(Path(state).read_text(encoding="utf-8"))
        self._call("PUT", "/state", body=state)

    def export_state(self) -> dict[str, Any]:
        """The whole store, as ``GET /_mockscim/state`` gives it."""
        exported: dict[str, Any] = self._call("GET", "/state").json()
        return exported

    def scenario(self, scenario: ScenarioSource | None) -> Undo:
        """Activate ``scenario`` now: a shipped name, a file path, an inline mapping, or None for no scenario.

        Use the result as a context manager to put the previous scenario back on exit, as it was (its clock and
        budgets kept). Expectations of a scenario switched away from still count in :meth:`problems`.
        """
        slot = self._slot
        previous = slot.active
        if scenario is None:
            self._call("DELETE", "/scenario", ok=(204,))
        else:
            self._call("POST", "/scenario", body=self._scenario_request(scenario))
        self._retire(previous)
        return Undo(lambda: self._put_back(slot, previous))

    def _scenario_request(self, scenario: ScenarioSource) -> dict[str, Any]:
        """The POST body; a file handed over in Python is trusted (its directory may be read: docs/behaviour.md §12
        guards against web pages, and this caller is the test itself)."""
        body = _scenario_body(scenario)
        if "path" in body:
            self.app.state.runtime.scenario_dirs.append(Path(body["path"]).parent)
        return body

    def active_scenario(self) -> dict[str, Any] | None:
        """The ``active`` object of ``GET /_mockscim/scenario``: the scenario with per-rule ``fired``/``remaining``."""
        active: dict[str, Any] | None = self._call("GET", "/scenario").json()["active"]
        return active

    def secret_server_down(self) -> Undo:
        """Take Secret Server down now; as a context manager, exit brings back the previous availability."""
        previous = bool(self._call("GET", "/secret-server").json()["available"])
        self._call("PUT", "/secret-server", body={"available": False})
        return Undo(lambda: self._call("PUT", "/secret-server", body={"available": previous}))

    def journal(self, *, status: int | str | None = None, method: str | None = None, path: str | None = None,
                since: str | datetime | JournalEntry | None = None, limit: int | None = None, q: str | None = None,
                principal: str | None = None, rule: str | None = None) -> list[JournalEntry]:
        """Recorded requests, oldest first, filtered as ``GET /_mockscim/journal`` filters (docs/behaviour.md §12).

        ``status``: ``404`` or ``"4xx"``; ``path``: exact, or a glob with ``*``; ``since``: a time, a request id or
        an entry (entries after it); ``limit``: the newest N (default: all the journal holds); ``q``: a
        case-insensitive substring of the path, query, detail or request body; ``principal``; ``rule``: a glob.
        """
        if isinstance(since, JournalEntry):
            since = since.request_id
        elif isinstance(since, datetime):
            since = since.isoformat()
        params = {"status": status, "method": method, "path": path, "since": since, "q": q, "principal": principal,
                  "rule": rule,
                  "limit": self.settings.journal_size if limit is None else limit}
        query = {k: str(v) for k, v in params.items() if v is not None}
        entries = self._call("GET", "/journal", params=query).json()["entries"]
        return [JournalEntry.from_json(entry) for entry in entries]

    def assert_requested(self, method: str, path: str, *, body: Any = ANY, times: int | None = None,
                         ) -> list[JournalEntry]:
        """Assert that the journal holds a ``method`` request to ``path`` (exact, or a glob with ``*``; with ``?``
        the query too) whose body equals ``body`` (a JSON value, or a predicate called with the body), ``times``
        times exactly (default: at least once); return the matching entries (docs/behaviour.md §14).

        When none matched, the AssertionError lists the nearest journal entries with a diff of their bodies (the
        near-miss report of WireMock's ``verify``).
        """
        __tracebackhide__ = True  # pytest shows the caller's line and the report, not this frame
        entries = self.journal()
        matching = [e for e in entries if _matches(e, method, path, body)]
        if (times is None and matching) or (times is not None and len(matching) == times):
            return matching
        raise AssertionError(near_miss_report(entries, matching, method, path, body, times))

    def clear_journal(self) -> None:
        """Forget every recorded request."""
        self._call("DELETE", "/journal", ok=(204,))

    # -- server-side surprises ---------------------------------------------------------------------------------------
    @property
    def errors(self) -> list[BaseException]:
        """Every unhandled exception the server caught (and answered with a 500) since it was built."""
        errors = self._runtime.errors
        return errors

    def problems(self) -> list[str]:
        """Readable reasons a test should fail since the last :meth:`reset`: unhandled exceptions in the server,
        and rules marked ``expect: true`` that never fired (in the active scenario or one switched away from)."""
        scenarios = [active for active in dict.fromkeys([*self._retired, self._slot.active]) if active is not None]
        found = [line for active in scenarios for line in _unfired(active)]
        for exc in self.errors[self._errors_seen:]:
            trace = _traceback(exc).replace("\n", "\n    ")
            found.append(f"unhandled exception in the server (the client got a 500):\n    {trace}")
        return found

    def check(self) -> None:
        """Raise AssertionError listing :meth:`problems`, if any (what the pytest plugin does at teardown)."""
        found = self.problems()
        if found:
            raise AssertionError(f"mockscim: {len(found)} server-side problem(s):\n- " + "\n- ".join(found))

    # -- internals ---------------------------------------------------------------------------------------------------
    @property
    def _runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def _slot(self) -> ScenarioSlot:
        slot: ScenarioSlot = self._runtime.scenario
        return slot

    def _retire(self, active: ActiveScenario | None) -> None:
        if active is not None and active not in self._retired:
            self._retired.append(active)

    def _put_back(self, slot: ScenarioSlot, previous: ActiveScenario | None) -> None:
        self._retire(slot.active)
        if previous in self._retired:
            self._retired.remove(previous)
        slot.active = previous

    def _call(self, method: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None,
              ok: tuple[int, ...] = (200,)) -> httpx.Response:
        request = self._control.request(method, f"/_mockscim{path}", json=body, params=params)
        response = self._background.run(request)
        if response.status_code not in ok:
            try:
                reason = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                reason = response.text
            raise MockScimError(f"{method} /_mockscim{path}: {response.status_code} {reason}")
        return response


@functools.cache
def _plain_context() -> ssl.SSLContext:
    """One TLS context for every client: never used on an ``http://`` URL, but httpx wants one per transport."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _target(entry: JournalEntry, path: str) -> str:
    return f"{entry.path}?{entry.query}" if "?" in path and entry.query else entry.path


def _path_matches(entry: JournalEntry, path: str) -> bool:
    target = _target(entry, path)
    return fnmatchcase(target, path) if "*" in path else target == path


def _body_matches(entry: JournalEntry, body: Any) -> bool:
    if body is ANY:
        return True
    if callable(body):
        return bool(body(entry.request_body))
    return bool(entry.request_body == body)


def _matches(entry: JournalEntry, method: str, path: str, body: Any) -> bool:
    return entry.method.upper() == method.upper() and _path_matches(entry, path) and _body_matches(entry, body)


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=repr).splitlines()


def _closeness(entry: JournalEntry, method: str, path: str, body: Any) -> float:
    """How near ``entry`` comes to the request asserted: method, path and body, each 0..1."""
    score = 1.0 if entry.method.upper() == method.upper() else 0.0
    score += 1.0 if _path_matches(entry, path) else SequenceMatcher(None, _target(entry, path), path).ratio()
    if body is not ANY and not callable(body):
        score += SequenceMatcher(None, "\n".join(_pretty(entry.request_body)), "\n".join(_pretty(body))).ratio()
    return score


def near_miss_report(entries: list[JournalEntry], matching: list[JournalEntry], method: str, path: str, body: Any,
                     times: int | None) -> str:
    """What ``assert_requested`` says when it fails: what was expected, how many matched, and the nearest entries
    with a unified diff of each body against the one expected."""
    wanted = "at least once" if times is None else f"exactly {times} time{'s' if times != 1 else ''}"
    lines = [f"expected {method.upper()} {path} to be requested {wanted}, but {len(matching)} "
             f"request{'s' if len(matching) != 1 else ''} matched (of {len(entries)} in the journal)."]
    if body is not ANY:
        lines.append("with body:" if not callable(body) else f"with a body accepted by {body!r}")
        if not callable(body):
            lines += ["    " + line for line in _pretty(body)]
    if matching:
        lines.append("Matching requests:")
        lines += [f"  {e.describe()}" for e in matching]
        return "\n".join(lines)
    if not entries:
        lines.append("The journal is empty: no request reached mockscim.")
        return "\n".join(lines)
    nearest = sorted(entries, key=lambda e: -_closeness(e, method, path, body))[:_NEAREST]
    lines.append(f"Nearest journal entr{'ies' if len(nearest) > 1 else 'y'}:")
    for n, e in enumerate(nearest, 1):
        lines.append(f"  {n}. {e.describe()}")
        if e.method.upper() != method.upper():
            lines.append(f"     method: {e.method} (expected {method.upper()})")
        if not _path_matches(e, path):
            lines.append(f"     path: {_target(e, path)} (expected {path})")
        if body is not ANY and not _body_matches(e, body):
            if e.method.upper() != method.upper() or not _path_matches(e, path):
                sent = json.dumps(e.request_body, ensure_ascii=False, default=repr)
                lines.append(f"     body: {sent if len(sent) <= 200 else sent[:200] + '…'}")
            elif callable(body):
                lines.append("     body: not accepted by the predicate")
                lines += ["       " + line for line in _pretty(e.request_body)]
            else:
                lines.append("     body (- expected, + sent):")
                diff = unified_diff(_pretty(body), _pretty(e.request_body), lineterm="", n=2)
                lines += ["       " + line for line in list(diff)[2:]]
    return "\n".join(lines)


def _scenario_body(scenario: ScenarioSource) -> dict[str, Any]:
    """The ``POST /_mockscim/scenario`` body: ``{"name"}``, ``{"path"}`` (path-like values) or the inline scenario."""
    if isinstance(scenario, Mapping):
        return {"name": "inline", **scenario}
    text = os.fspath(scenario)
    if isinstance(scenario, os.PathLike) or "/" in text or os.sep in text or text.endswith(_SCENARIO_SUFFIXES):
        return {"path": str(Path(text).resolve())}
    return {"name": text}


def _traceback(exc: BaseException) -> str:
    """The exception with its traceback, Starlette's own frames left out (they are the same for every request)."""
    shown = traceback.TracebackException.from_exception(exc)
    frames = [frame for frame in shown.stack if "starlette" not in Path(frame.filename).parts]
    shown.stack = traceback.StackSummary.from_list(frames)
    return "".join(shown.format()).rstrip()


def _unfired(active: ActiveScenario) -> list[str]:
    """One readable line per ``expect: true`` rule of ``active`` that never fired."""
    name = active.scenario.name
    return [f"scenario {name!r} rule #{rule.index} was expected to fire but never did: "
            + json.dumps({k: rule.raw[k] for k in ("match", "then") if k in rule.raw})
            for rule in active.unfired_expectations()]
