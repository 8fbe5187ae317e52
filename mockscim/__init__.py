"""mockscim: a local emulator of Delinea's SCIM Cloud API and Secret Server, with scriptable failure modes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["JournalEntry", "MockScim", "MockScimError", "Settings", "__version__", "create_app"]

if TYPE_CHECKING:
    from mockscim.app import create_app
    from mockscim.settings import Settings
    from mockscim.testing.server import JournalEntry, MockScim, MockScimError

_LAZY = {
    "create_app": "mockscim.app",
    "Settings": "mockscim.settings",
    "MockScim": "mockscim.testing.server",
    "JournalEntry": "mockscim.testing.server",
    "MockScimError": "mockscim.testing.server",
}


def __getattr__(name: str) -> Any:
    # Lazy: the pytest plugin imports this package in every run of an environment that has mockscim installed.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mockscim' has no attribute {name!r}")
