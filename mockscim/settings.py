"""One frozen Settings: CLI options, ``MOCKSCIM_*`` variables, the pytest marker map onto it (docs/behaviour.md §14)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

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
