"""The surface map: the URL layout of the four surfaces, and what a request addresses (docs/behaviour.md §1, §10).

This module is the one owner of the layout. The outermost middleware classifies each request once
(:func:`classify`) and keeps the :class:`Target` in the request's state; authentication, faults, the journal, the
error renderers and the scenario engine read that instead of looking at the path again. Routes inside a surface are
its package's own business (``mockscim.secretserver`` lists ``/api/v1/secrets/{id}``); which surface a path belongs
to, and how the scenario language names it, is decided here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mockscim import kinds

__all__ = [
    "CONTROL_ROOT",
    "OPERATIONS",
    "PLATFORM_ROOT",
    "PLATFORM_TOKEN",
    "RESOURCES",
    "SCIM_ROOT",
    "SECRET_SERVER_TOKEN",
    "Surface",
    "Target",
    "classify",
    "on_prem_prefix",
    "route",
    "route_path",
    "scim_url",
]


class Surface(enum.Enum):
    """The four surfaces on the one port, plus the root's unknown paths (which answer like the Secret Server)."""

    SCIM = "scim"
    """``/scim/v2/...``: the SCIM Cloud API (SCIM error bodies, RFC 7644 §3.12)."""
    TOKEN = "token"
    """Both token endpoints and Platform mode's: RFC 6749 §5.2 error bodies."""
    SECRET_SERVER = "secretserver"
    """The Secret Server REST API and Platform mode (``{"errorCode", "message"}`` bodies); also every root path
    that nothing serves, since the root is a Secret Server."""
    CONTROL = "control"
    """``/_mockscim/...``: the control plane (``{"error"}`` bodies), never journaled, never faulted."""


SCIM_ROOT = "/scim/v2"
CONTROL_ROOT = "/_mockscim"
PLATFORM_ROOT = "/platform"
PLATFORM_TOKEN = "/identity/api/oauth2/token/xpmplatform"
SECRET_SERVER_TOKEN = "/oauth2/token"
_TOKEN_PATHS = frozenset({PLATFORM_TOKEN, SECRET_SERVER_TOKEN, PLATFORM_ROOT + PLATFORM_TOKEN})
# docs/behaviour.md §1: the root is a Secret Server, with no /health and no /vaultbroker (Platform mode's are under
# /platform), so an SDK pointed at the root never takes a Secret Server outage for Platform mode.
_SECRET_SERVER_PREFIXES = (
    "/api/v1", "/api/v2", "/healthcheck.aspx", "/platform/api", "/platform/health", "/platform/vaultbroker",
)

RESOURCES: tuple[str, ...] = (*(k.name for k in kinds.ALL), *kinds.DISCOVERY, "Bulk", "Token", "SecretServer")
"""What a scenario's ``resource`` matcher may name (docs/behaviour.md §10): the SCIM endpoints, ``Token`` for the
token endpoints, ``SecretServer`` for the Secret Server API."""
OPERATIONS: tuple[str, ...] = ("create", "read", "list", "replace", "patch", "delete", "token")

_SECRET_SERVER_KINDS = {"secrets": kinds.PRIVILEGED_DATA.name, "folders": kinds.CONTAINERS.name}
_SCIM_RESOURCES = frozenset(RESOURCES) - {"Token", "SecretServer"}
_SCIM_NAMES = {name.lower(): name for name in (*_SCIM_RESOURCES, ".search")}
_SCIM_PREFIX = SCIM_ROOT + "/"
_SCIM_CUT = len(_SCIM_PREFIX)
_BY_METHOD = {"GET": "read", "HEAD": "read", "PUT": "replace", "PATCH": "patch", "DELETE": "delete"}


@dataclass(slots=True)
class Target:
    """What one request addresses: its surface, and the ``resource``/``operation``/id the scenario engine and the
    error renderers see (``None`` where the path names none)."""

    surface: Surface
    resource: str | None = None
    operation: str | None = None
    id: str | None = None
    kind: str | None = None
    """The kind of stored object the path addresses by id, on the Secret Server API (``/api/v1/secrets/{id}`` a
    ``PrivilegedData``, ``/api/v1/folders/{id}`` a ``Containers``); ``None`` elsewhere."""
    faultable: bool = False
    """Whether scenario rules apply (docs/behaviour.md §10: SCIM, the token endpoints, the Secret Server API)."""

    @property
    def journaled(self) -> bool:
        """docs/behaviour.md §12: every request is journaled except the control plane's."""
        return self.surface is not Surface.CONTROL


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def route_path(path: str) -> str:
    """The path the routes are matched against (docs/behaviour.md §1): under ``/scim/v2``, endpoint and discovery
    names in any case are spelt as declared (``/scim/v2/users/1`` → ``/scim/v2/Users/1``); there, on the Secret
    Server API and on the token endpoints (§9: the Go SDK creates with ``POST /api/v1/secrets/``) a trailing slash
    is dropped, never redirected; every other path is returned as it came."""
    if not _under(path, SCIM_ROOT):
        trimmed = path.rstrip("/")
        if trimmed != path and (trimmed in _TOKEN_PATHS or any(_under(trimmed, p) for p in _SECRET_SERVER_PREFIXES)):
            return trimmed
        return path
    parts = path[len(SCIM_ROOT):].rstrip("/").split("/")  # ["", "users", "1"]
    if len(parts) > 1:
        parts[1] = _SCIM_NAMES.get(parts[1].lower(), parts[1])
    if len(parts) == 3 and parts[2].lower() == ".search":
        parts[2] = ".search"
    return SCIM_ROOT + "/".join(parts)


def route(method: str, path: str) -> tuple[str, Target]:
    """``(route_path(path), classify(method, routed))`` in one pass: every request comes here once. A SCIM path (most
    requests) is split once for both."""
    if not path.startswith(_SCIM_PREFIX):
        routed = route_path(path)
        return routed, classify(method, routed)
    parts = path[_SCIM_CUT:].rstrip("/").split("/")  # "/scim/v2/users/1" → ["users", "1"]
    if "" in parts or "?" in path:  # an empty segment, a literal "?": the general rules decide
        routed = route_path(path)
        return routed, classify(method, routed)
    parts[0] = _SCIM_NAMES.get(parts[0].lower(), parts[0])
    if len(parts) == 2 and parts[1].lower() == ".search":
        parts[1] = ".search"
    return SCIM_ROOT + "/" + "/".join(parts), _scim(method.upper(), parts)


def classify(method: str, path: str) -> Target:
    """The :class:`Target` of ``method path`` (the path without its query string)."""
    method, path = method.upper(), path.split("?", 1)[0]
    if _under(path, CONTROL_ROOT):
        return _CONTROL
    if path.rstrip("/") in _TOKEN_PATHS:
        return _TOKEN
    if _under(path, SCIM_ROOT):
        return _scim(method, [part for part in path[len(SCIM_ROOT):].split("/") if part])
    if any(_under(path, p) for p in _SECRET_SERVER_PREFIXES):
        parts = [part for part in path.split("/") if part]
        number = next((part for part in parts if part.isascii() and part.isdigit()), None)
        if method in ("GET", "HEAD"):
            # A request naming a numeric id (a secret, a folder, a secret's field) reads one thing; else a list.
            operation: str | None = "read" if number is not None else "list"
        else:
            operation = "create" if method == "POST" else _BY_METHOD.get(method)
        api = parts[1:] if parts[:1] == ["platform"] else parts
        addressed = None
        if len(api) > 3 and api[0] == "api" and api[1] in ("v1", "v2") and api[3].isascii() and api[3].isdigit():
            addressed = _SECRET_SERVER_KINDS.get(api[2])
        return Target(Surface.SECRET_SERVER, "SecretServer", operation, number, addressed, faultable=True)
    return _ROOT


def _scim(method: str, parts: list[str]) -> Target:
    """docs/behaviour.md §10 "Matching": POST on a collection creates, GET by id reads, GET on a collection or
    ``POST /.search`` lists, PUT replaces, PATCH patches, DELETE deletes."""
    if not parts:
        return Target(Surface.SCIM, faultable=True)
    if parts == [".search"]:
        return Target(Surface.SCIM, None, "list" if method == "POST" else None, faultable=True)
    resource, rid = parts[0], (parts[1] if len(parts) > 1 and parts[1] != ".search" else None)
    if resource not in _SCIM_RESOURCES:
        return Target(Surface.SCIM, None, None, rid, faultable=True)
    if resource == "ServiceProviderConfig" and method in ("GET", "HEAD"):
        return Target(Surface.SCIM, resource, "read", rid, faultable=True)  # a single resource, not a collection
    if len(parts) == 1:
        operation = "create" if method == "POST" else ("list" if method in ("GET", "HEAD") else _BY_METHOD.get(method))
    elif parts[1] == ".search" and len(parts) == 2:
        operation = "list" if method == "POST" else None
    else:
        operation = _BY_METHOD.get(method)  # by id; POST on an id creates nothing
    return Target(Surface.SCIM, resource, operation, rid, faultable=True)


_CONTROL = Target(Surface.CONTROL)
_TOKEN = Target(Surface.TOKEN, "Token", "token", faultable=True)
_ROOT = Target(Surface.SECRET_SERVER)


def scim_url(base: str, endpoint: str, id: str | None = None) -> str:
    """The URL of a SCIM collection or resource under ``base`` (``meta.location``, ``$ref``: RFC 7643 §3.1)."""
    return f"{base}{SCIM_ROOT}/{endpoint}" if id is None else f"{base}{SCIM_ROOT}/{endpoint}/{id}"


_ON_PREM = ("/api/v1", "/api/v2", SECRET_SERVER_TOKEN)


def on_prem_prefix(path: str, prefix: str | None) -> str | None:
    """``prefix`` (normalised: one leading slash, none trailing) when ``path`` is a Secret Server API path below it,
    as on-prem base URLs put it (``/SecretServer/api/v1/...``, ``/SecretServer/oauth2/token``: docs/behaviour.md §14,
    ``--secret-server-path``); else ``None``."""
    if not prefix:
        return None
    prefix = "/" + prefix.strip("/")
    if not path.startswith(prefix + "/"):
        return None
    rest = path[len(prefix):]
    return prefix if any(_under(rest, p) for p in _ON_PREM) else None
