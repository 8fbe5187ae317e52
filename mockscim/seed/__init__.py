"""``mockscim seed`` (docs/behaviour.md §13): realistic, reproducible state files made with Faker."""

from __future__ import annotations

from mockscim.seed.generate import dumps_state, generate_state, write_state

__all__ = ["dumps_state", "generate_state", "write_state"]
