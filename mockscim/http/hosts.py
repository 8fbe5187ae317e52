"""Who the server is on the wire: Host allow-list, trusted forwarded headers, public URL (docs/behaviour.md §14)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.types import Scope

from mockscim.settings import Settings

__all__ = ["Hosts", "host_name"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_name(value: str) -> str:
    """The name in a ``Host`` value (RFC 9110 §7.2: ``host[:port]``, IPv6 literals in brackets), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Hosts:
    """The names this server answers to, the peers whose ``X-Forwarded-*`` headers it believes, and the public URL.

    docs/behaviour.md §14: allowed are ``localhost``, ``127.0.0.1``, ``::1``, the bind host and the ``--public-url``
    host; anything else is refused, which also closes DNS rebinding (a page on ``evil.example`` re-pointed at
    127.0.0.1 still sends ``Host: evil.example``). Rebinding needs a domain name someone registered, so two kinds of
    name stay allowed: single-label names (a docker-compose service ``mockscim``, an in-process ``testserver``) and,
    bound to every interface, IP literals.
    """

    names: frozenset[str]
    any_ip: bool
    trusted: tuple[Network, ...] | None  # None: every peer ('*')
    public: str | None
    _verdicts: dict[bytes, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Raw ``Host`` values seen and whether each is answered to: clients send the same few again and again."""

    @classmethod
    def of(cls, settings: Settings) -> Hosts:
        names = set(_LOOPBACK)
        bind = host_name(settings.host)
        if bind not in _WILDCARDS:
            names.add(bind)
        public = settings.public_url.rstrip("/") if settings.public_url else None
        if public:
            names.add((urlsplit(public).hostname or "").lower())
        items = [item.strip() for item in settings.forwarded_allow_ips.split(",") if item.strip()]
        trusted = None if "*" in items else tuple(ipaddress.ip_network(i, strict=False) for i in items)
        return cls(frozenset(names), bind in _WILDCARDS, trusted, public)

    def allowed(self, host: str) -> bool:
        return _allowed(self.names, self.any_ip, host)

    def refused(self, scope: Scope) -> str | None:
        """The ``Host`` (or trusted ``X-Forwarded-Host``) value this server does not answer to, if any. A request
        without a Host header (HTTP/1.0) names nobody and passes. One pass over the raw headers: every request
        comes here."""
        forwarded: str | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                verdict = self._verdicts.get(value)
                if verdict is None:
                    verdict = self.allowed(value.decode("latin-1"))
                    if len(self._verdicts) < 256:
                        self._verdicts[value] = verdict
                if not verdict:
                    return str(value.decode("latin-1"))
            elif name == b"x-forwarded-host" and forwarded is None:
                forwarded = value.decode("latin-1").split(",")[0].strip()
        if forwarded and self.forwarded_from(scope) and not self.allowed(forwarded):
            return forwarded
        return None

    def forwarded_from(self, scope: Scope) -> bool:
        """Whether the peer is one ``--forwarded-allow-ips`` trusts."""
        if self.trusted is None:
            return True
        client = scope.get("client")
        if not client:
            return False
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(peer in network for network in self.trusted)

    def base(self, scope: Scope) -> str:
        """The server's root URL as the client should see it, no trailing slash: ``--public-url``, else the trusted
        ``X-Forwarded-Proto``/``-Host``, else the request's own scheme and ``Host``; plus the root path (a mount,
        or the ``--secret-server-path`` prefix)."""
        root = scope.get("app_root_path", scope.get("root_path", ""))
        if self.public is not None:
            return f"{self.public}{root}".rstrip("/")
        scheme: str = scope.get("scheme", "http")
        host = proto = forwarded = None
        for name, value in scope["headers"]:  # one pass: SCIM answers ask for the base on every request
            if name == b"host" and host is None:
                host = value.decode("latin-1")
            elif name == b"x-forwarded-proto" and proto is None:
                proto = value.decode("latin-1").split(",")[0].strip().lower()
            elif name == b"x-forwarded-host" and forwarded is None:
                forwarded = value.decode("latin-1").split(",")[0].strip()
        if (proto or forwarded) and self.forwarded_from(scope):
            scheme = proto if proto in ("http", "https") else scheme
            host = forwarded or host
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
        return f"{scheme}://{host}{root}".rstrip("/")


@lru_cache(maxsize=256)
def _allowed(names: frozenset[str], any_ip: bool, host: str) -> bool:
    """Whether ``host`` is answered to (cached: clients send the same few Host values again and again)."""
    name = host_name(host)
    if name in names or ("." not in name and ":" not in name):
        return True
    return any_ip and _is_ip(name)
