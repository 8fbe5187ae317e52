"""The Secret Server REST API and Platform mode (docs/behaviour.md §8, §9): routes, rules, models, errors."""

from __future__ import annotations

from mockscim.secretserver.routes import routes

__all__ = ["routes"]
