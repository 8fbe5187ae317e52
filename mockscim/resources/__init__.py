"""The rules of each resource kind: one class per kind of the registry (``mockscim.kinds``), which the core applies
(docs/behaviour.md §3, §4). A kind sees the core only through the narrow :class:`Context`."""

from __future__ import annotations

from mockscim.resources import owner
from mockscim.resources.base import Context, Kind
from mockscim.resources.containers import Containers
from mockscim.resources.groups import Groups
from mockscim.resources.permissions import ContainerPermissions, PrivilegedDataPermissions
from mockscim.resources.secrets import PrivilegedData
from mockscim.resources.users import Users

__all__ = ["KINDS", "Context", "Kind", "owner"]

KINDS: dict[str, type[Kind]] = {
    cls.spec.name: cls
    for cls in (Users, Groups, Containers, ContainerPermissions, PrivilegedData, PrivilegedDataPermissions)
}
"""The rule class of each kind, by name."""
