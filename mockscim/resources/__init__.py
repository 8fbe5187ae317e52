"""Resource kinds: one class per endpoint, holding the rules the core applies to it."""

from __future__ import annotations

from mockscim.resources.base import Kind
from mockscim.resources.groups import Groups
from mockscim.resources.users import Users

KINDS: dict[str, type[Kind]] = {cls.endpoint: cls for cls in (Users, Groups)}
