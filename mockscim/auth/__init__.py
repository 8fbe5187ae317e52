"""Who calls: bearer tokens and their registry, stored passwords, principals (docs/behaviour.md §2)."""

from __future__ import annotations

from mockscim.auth.passwords import check_password, hash_password
from mockscim.auth.principal import ANONYMOUS, Principal
from mockscim.auth.tokens import Issued, TokenRegistry

__all__ = ["ANONYMOUS", "Issued", "Principal", "TokenRegistry", "check_password", "hash_password"]
