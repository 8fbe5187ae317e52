"""The control plane (docs/behaviour.md §12): health, reset, state, scenarios, Secret Server switch, journal, page."""

from __future__ import annotations

from mockscim.control.routes import routes

__all__ = ["routes"]
