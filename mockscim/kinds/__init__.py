"""The kind registry: every fact about each resource kind, declared once (docs/behaviour.md §3, §13).

Everything else derives from this table: the store's tables and indexes, the schema URNs, which kinds get integer
ids, the attribute a reference's ``display`` shows, the scenario engine's ``resource`` names and the state format's
keys. The rules a kind enforces live in :mod:`mockscim.resources`, one class per kind, each naming its entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ALL",
    "BY_NAME",
    "CONTAINERS",
    "CONTAINER_PERMISSIONS",
    "DISCOVERY",
    "GROUPS",
    "PERMISSIONS",
    "PRIVILEGED_DATA",
    "PRIVILEGED_DATA_PERMISSIONS",
    "SECRET_TEMPLATES",
    "SERVICE_USERS",
    "TABLES",
    "USERS",
    "KindSpec",
    "display_attribute",
    "indexes",
]


@dataclass(frozen=True, slots=True, eq=False)
class KindSpec:
    """The facts of one resource kind.

    ``name`` is the SCIM endpoint, the state file's key, the store's table and the scenario ``resource``;
    ``indexes`` maps a dotted attribute to whether its index folds case (docs/behaviour.md §3: ``userName``, Group
    ``displayName`` and PAM names compare case-insensitively; ids, ``externalId`` and reference values exactly).
    """

    name: str
    resource_type: str
    schema: str
    indexes: Mapping[str, bool]
    integer_ids: bool = False
    display: str | None = None
    description: str = ""
    member_set: str | None = None
    """A multi-valued reference attribute changed one member at a time (Group ``members``): the store keeps it
    in a member table so adding, removing and testing one member costs O(1) (docs/behaviour.md §6)."""


def _ix(**folds: bool) -> Mapping[str, bool]:
    return MappingProxyType({k.replace("__", "."): v for k, v in folds.items()})


USERS = KindSpec(
    "Users", "User", "urn:ietf:params:scim:schemas:core:2.0:User",
    indexes=_ix(userName=True, externalId=False, emails__value=True), display="userName", description="User Account",
)
GROUPS = KindSpec(
    "Groups", "Group", "urn:ietf:params:scim:schemas:core:2.0:Group",
    indexes=_ix(displayName=True, externalId=False, members__value=False), display="displayName",
    description="Group", member_set="members",
)
CONTAINERS = KindSpec(
    "Containers", "Container", "urn:ietf:params:scim:schemas:pam:1.0:Container", integer_ids=True,
    indexes=_ix(name=True, parent__value=False, owner__value=False), display="displayName",
    description="Secret Server folders",
)
CONTAINER_PERMISSIONS = KindSpec(
    "ContainerPermissions", "ContainerPermission", "urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission",
    integer_ids=True, indexes=_ix(container__value=False, user__value=False, group__value=False),
    description="Secret Server folder permissions",
)
PRIVILEGED_DATA = KindSpec(
    "PrivilegedData", "PrivilegedData", "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData", integer_ids=True,
    indexes=_ix(name=True, container__value=False), display="name",
    description="Secret Server secrets",
)
PRIVILEGED_DATA_PERMISSIONS = KindSpec(
    "PrivilegedDataPermissions", "PrivilegedDataPermission",
    "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedDataPermission", integer_ids=True,
    indexes=_ix(privilegedData__value=False, user__value=False, group__value=False),
    description="Secret Server secret permissions",
)

ALL: tuple[KindSpec, ...] = (
    USERS, GROUPS, CONTAINERS, CONTAINER_PERMISSIONS, PRIVILEGED_DATA, PRIVILEGED_DATA_PERMISSIONS,
)
"""The resource kinds, in state-file order."""

PERMISSIONS: tuple[KindSpec, ...] = (CONTAINER_PERMISSIONS, PRIVILEGED_DATA_PERMISSIONS)
"""The kinds that grant rights to a user or a group (docs/behaviour.md §4): deleting either deletes what names it."""

BY_NAME: Mapping[str, KindSpec] = MappingProxyType({k.name: k for k in ALL})

SERVICE_USERS = "serviceUsers"
"""The state's list of OAuth clients (docs/behaviour.md §2, §13): not a SCIM kind, stored keyed by ``userName``."""

SECRET_TEMPLATES = "SecretTemplates"
"""The state's secret templates (docs/behaviour.md §9, §13; :mod:`mockscim.kinds.templates`): not a SCIM kind."""

TABLES: tuple[str, ...] = (SERVICE_USERS, *(k.name for k in ALL), SECRET_TEMPLATES)
"""Every table of the store, in state-file order."""

DISCOVERY: tuple[str, ...] = ("ServiceProviderConfig", "ResourceTypes", "Schemas")
"""The discovery endpoints (RFC 7644 §4): served beside the kinds, holding no data of their own."""


def indexes() -> Mapping[str, Mapping[str, bool]]:
    """Every kind's indexes: kind → {dotted attribute → folds case?}."""
    return {k.name: k.indexes for k in ALL}


def display_attribute(kind: str) -> str | None:
    """The attribute a reference to ``kind`` shows as its ``display`` (``userName`` for a User)."""
    spec = BY_NAME.get(kind)
    return None if spec is None else spec.display
