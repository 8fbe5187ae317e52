"""No cross-site control (docs/behaviour.md §12): control-plane writes need a JSON type; a foreign ``Origin`` → 403."""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from mockscim.http.context import header, state_of
from mockscim.http.errors import Problem, answer
from mockscim.surfaces import CONTROL_ROOT, Surface

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON = frozenset({"application/json", "application/scim+json"})  # JSON types no form can send (RFC 7644 §3.1)
_SCENARIO = CONTROL_ROOT + "/scenario"
# docs/behaviour.md §12: a scenario document may also come as YAML (the dashboard's upload, curl --data-binary @x.yaml).
_SCENARIO_TYPES = _JSON | {"application/yaml", "text/yaml", "application/x-yaml"}
_DEFAULT_PORT = {"http": "80", "https": "443"}


def _header(scope: Scope, name: bytes) -> str | None:
    value = header(scope, name)
    return None if value is None else value.strip()


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return _header(scope, b"transfer-encoding") is not None or (length is not None and length != "0")


def _split(host: str) -> tuple[str, str]:
    """``Host`` (RFC 9110 §7.2) as (name, port); the port is ``""`` when absent. ``[::1]:8000`` keeps its brackets."""
    name, colon, port = host.lower().rpartition(":")
    if colon and port.isdigit() and (not name.startswith("[") or name.endswith("]")):
        return name, port
    return host.lower(), ""


def own_origin(scope: Scope, host: str) -> str:
    """The origin a page served by this server has (RFC 6454 §4): scheme, host, and the port unless it is the
    scheme's default."""
    scheme = str(scope.get("scheme", "http"))
    name, port = _split(host)
    return f"{scheme}://{name}" + (f":{port}" if port and port != _DEFAULT_PORT.get(scheme) else "")


def cross_site_refusal(scope: Scope, allowed_hosts: Collection[str] | None = None) -> Problem | None:
    """The answer to a control-plane request a web page could make, or None (the checks of
    :class:`CrossSiteMiddleware`); ``allowed_hosts`` lower-case. Reads the head only, never raises."""
    host = _header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    if allowed_hosts is not None and _split(host)[0] not in allowed_hosts:
        return Problem(403, f"Host {host!r} is not one this server answers to")
    origin = _header(scope, b"origin")
    if origin is not None and origin.lower().rstrip("/") != own_origin(scope, host):
        return Problem(403, f"cross-origin request refused: Origin {origin!r} is not this server's origin "
                            f"({own_origin(scope, host)})")
    if scope["method"] in _WRITES and _has_body(scope):
        given = (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()
        allowed = _SCENARIO_TYPES if scope["path"].rstrip("/") == _SCENARIO else _JSON
        if given not in allowed:
            shown = given or "none"
            return Problem(415, f"control-plane writes take {' or '.join(sorted(allowed))} (Content-Type: "
                                f"{shown})")
    return None


class CrossSiteMiddleware:
    """Refuses, before anything reads them, control-plane requests a web page could make (docs/behaviour.md §12):

    - an ``Origin`` that is present and not the server's own (a page of another site, a DNS-rebound name that the
      Host allow-list does not know, ``null``) → 403 ``{"error"}``;
    - a ``Host`` outside ``allowed_hosts`` → 403 (the seam of the Host allow-list, docs/behaviour.md §14: ``None``,
      the default, checks nothing here);
    - a write with a body whose ``Content-Type`` is not ``application/json`` (or a YAML type for a scenario
      document) → 415: an HTML form can only send ``text/plain``, ``application/x-www-form-urlencoded`` and
      ``multipart/form-data`` without the page asking first (CORS preflight).

    Nothing is read or changed before the answer. Other surfaces pass untouched. ``create_app`` runs the same checks
    (:func:`cross_site_refusal`) in :class:`~mockscim.middleware.edge.HostMiddleware`, one layer fewer on every
    request; this class wraps an app with an allow-list of its own.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Collection[str] | None = None) -> None:
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or state_of(scope).target.surface is not Surface.CONTROL:
            await self.app(scope, receive, send)
            return
        problem = cross_site_refusal(scope, self.allowed_hosts)
        if problem is not None:
            await answer(scope, problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)
