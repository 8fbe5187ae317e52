"""The pure core (docs/behaviour.md §3-6, §13): every operation on the data, state import and export, principals."""

from __future__ import annotations

from mockscim.core.engine import Core, ListParams
from mockscim.core.state import StateError, check_stored_state, normalise_state

__all__ = ["Core", "ListParams", "StateError", "check_stored_state", "normalise_state"]
