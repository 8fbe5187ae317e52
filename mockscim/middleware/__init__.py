"""Cross-cutting behaviour as pure ASGI middleware: each passes a request on or answers it, and never raises."""

from __future__ import annotations

from mockscim.middleware.auth import AuthMiddleware
from mockscim.middleware.faults import FaultsMiddleware
from mockscim.middleware.guard import GuardMiddleware
from mockscim.middleware.journal import JournalMiddleware

__all__ = ["AuthMiddleware", "FaultsMiddleware", "GuardMiddleware", "JournalMiddleware"]
