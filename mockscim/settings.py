"""One frozen Settings: CLI options, ``MOCKSCIM_*`` variables, the pytest marker map onto it (docs/behaviour.md §14)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """Everything ``mockscim serve`` can be told; defaults are docs/behaviour.md §1, §2, §7, §12."""

    host: str = "127.0.0.1"
    port: int = 8000
    store: str = "memory"
    fixture: str | None = None
    scenario: str | None = None
    scenario_dir: str | None = None
    profile: str = "cloud"
    token: str = "mockscim-token"
    token_ttl: int = 3600
    token_grace: int = 0
    max_body: int = 1048576
    admin_token: str | None = None
    journal_file: str | None = None
    journal_size: int = 10000
    journal_body_bytes: int = 32 * 1024 * 1024  # issue 16, docs/behaviour.md §12: bodies kept by all entries
    secret_server_down: bool = False
    log_level: str = "info"
    # docs/behaviour.md §14 (HTTPS, proxies and sub-paths).
    tls: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    public_url: str | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    secret_server_path: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``MOCKSCIM_<NAME>`` variables, then ``overrides`` (the command line wins, docs/behaviour.md
        §14)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"MOCKSCIM_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def problems(self) -> list[str]:
        """What is wrong with these values, one line each naming the option and the value (docs/behaviour.md §14:
        a bad value stops ``serve`` with exit 2, never a traceback). Files named are checked where they can be
        without loading them."""
        found: list[str] = []

        def bad(name: str, reason: str) -> None:
            found.append(f"--{name.replace('_', '-')} {_shown(getattr(self, name))}: {reason}")

        if not 0 <= self.port <= 65535:
            bad("port", "not a TCP port (0-65535; 0 picks a free one)")
        for name in ("token_ttl", "token_grace", "journal_size"):
            if getattr(self, name) < (1 if name != "token_grace" else 0):
                bad(name, "must be a positive number" if name != "token_grace" else "must not be negative")
        if self.max_body < 1:
            bad("max_body", "must be a positive number of bytes")
        if self.log_level.lower() not in LOG_LEVELS:
            bad("log_level", f"not a log level ({'|'.join(LOG_LEVELS)})")
        for name in ("token", "admin_token"):
            value = getattr(self, name)
            if value is not None and (not value.strip() or any(c.isspace() for c in value)):
                bad(name, "a bearer token must be non-empty, without spaces (RFC 6750 §2.1)")
        if not self.host.strip():
            bad("host", "empty")
        if self.public_url is not None:
            url = urlsplit(self.public_url)
            if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
                bad("public_url", "expected http(s)://host[:port][/path]")
        for item in self.forwarded_allow_ips.split(","):
            if item.strip() != "*":
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError:
                    bad("forwarded_allow_ips", f"{item.strip()!r} is not an IP address or network (or '*')")
                    break
        prefix = self.secret_server_path
        if prefix is not None and (not prefix.startswith("/") or prefix.rstrip("/") == "" or "?" in prefix):
            bad("secret_server_path", "expected a path such as /SecretServer")
        if (self.tls_cert is None) != (self.tls_key is None):
            bad("tls_cert" if self.tls_cert is None else "tls_key", "--tls-cert and --tls-key go together")
        for name in ("tls_cert", "tls_key"):
            value = getattr(self, name)
            if value is not None and not os.path.isfile(value):
                bad(name, "no such file")
        for name in ("store", "journal_file"):
            value = getattr(self, name)
            if value is None or value == "memory":
                continue
            if os.path.isdir(value):
                bad(name, "is a directory")
                continue
            folder = os.path.dirname(os.path.abspath(value))
            if not os.path.isdir(folder):
                bad(name, f"directory {folder} does not exist")
            elif not _writable(folder):
                bad(name, f"directory {folder} is not writable")
        return found


def _parse(name: str, kind: str, raw: str) -> Any:
    if "bool" in kind:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"MOCKSCIM_{name.upper()}: expected 1/true/yes or 0/false/no, got {raw!r}")
    if kind.startswith("int"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"MOCKSCIM_{name.upper()}: expected an integer, got {raw!r}") from None
    return raw


def _shown(value: Any) -> str:
    """A value as an error line shows it: strings quoted (so ``""`` is visible), numbers as they are."""
    return repr(value) if isinstance(value, str) else str(value)


def _writable(folder: str) -> bool:
    """Whether a file can be created in ``folder``: tried, not guessed (``os.access`` says yes to root on a read-only
    mount)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
