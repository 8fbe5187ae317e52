"""The SCIM HTTP edge (docs/behaviour.md §1, §4): resource endpoints and discovery, thin over the core."""

from __future__ import annotations

from mockscim.api import discovery, scim

__all__ = ["discovery", "scim"]
