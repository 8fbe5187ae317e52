"""Resource kinds: one class per endpoint, holding the rules the core applies to it."""

from __future__ import annotations

from mockscim.resources.base import Kind
from mockscim.resources.containers import Containers
from mockscim.resources.groups import Groups
from mockscim.resources.permissions import ContainerPermissions, PrivilegedDataPermissions
from mockscim.resources.secrets import PrivilegedData
from mockscim.resources.users import Users

KINDS: dict[str, type[Kind]] = {
    cls.endpoint: cls
    for cls in (Users, Groups, Containers, ContainerPermissions, PrivilegedData, PrivilegedDataPermissions)
}
