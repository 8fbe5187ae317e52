"""Per-request state shared by the middleware and the endpoints, kept in the ASGI scope under ``"mockscim"``."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import Scope

if TYPE_CHECKING:
    from mockscim.core import Principal

_ids = itertools.count(1)
_prefix = os.urandom(3).hex()


@dataclass(slots=True)
class RequestState:
    """What one request carries through the stack, and what the journal records of it (SPEC §12)."""

    request_id: str
    principal: Principal | None = None
    token: str | None = None
    status: int = 0
    scim_type: str | None = None
    detail: str | None = None
    rule: str | None = None
    body: Any = None
    base: str | None = None


def state_of(scope: Scope) -> RequestState:
    """The request's state, created on first use (a request id that is unique and sortable within a run)."""
    state: RequestState | None = scope.get("mockscim")
    if state is None:
        state = RequestState(request_id=f"{_prefix}-{next(_ids):08d}")
        scope["mockscim"] = state
    return state
