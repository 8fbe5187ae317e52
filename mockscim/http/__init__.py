"""What every surface's HTTP edge shares: the per-request state, the runtime, request and response helpers, and
the error renderer of each surface (docs/behaviour.md §7)."""

from __future__ import annotations

from mockscim.http.context import RequestState, bearer, state_of
from mockscim.http.errors import (
    EXCEPTION_HANDLERS,
    ControlError,
    Problem,
    RenderErrors,
    SecretServerError,
    SurfaceError,
    TokenError,
    answer,
)
from mockscim.http.runtime import Runtime, runtime_of

__all__ = [
    "EXCEPTION_HANDLERS",
    "ControlError",
    "Problem",
    "RenderErrors",
    "RequestState",
    "Runtime",
    "SecretServerError",
    "SurfaceError",
    "TokenError",
    "answer",
    "bearer",
    "runtime_of",
    "state_of",
]
