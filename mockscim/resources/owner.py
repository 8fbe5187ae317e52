"""The Owner model (docs/behaviour.md §4, §9, §10): pure functions over the store's indexes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

OWNER = "Owner"


class Reader(Protocol):
    """What the Owner model reads: documents by id and the store's value indexes (``mockscim.store.INDEXES``)."""

    def get(self, kind: str, id: str) -> Mapping[str, Any] | None: ...

    def lookup(self, kind: str, attr: str, value: Any) -> list[Mapping[str, Any]]: ...


def ref_value(doc: Mapping[str, Any], attr: str) -> str | None:
    """``doc[attr].value`` of a reference attribute, or ``None``."""
    ref = doc.get(attr)
    value = ref.get("value") if isinstance(ref, Mapping) else None
    return value if isinstance(value, str) else None


def revoked_for(revoked: Iterable[tuple[str, str]], user_name: str | None) -> frozenset[str]:
    """The containers whose Owner a scenario revoked for ``user_name`` (``Core.revoked`` entries, docs/behaviour.md
    §10)."""
    if user_name is None:
        return frozenset()
    low = user_name.lower()
    return frozenset(container for container, principal in revoked if principal == low)


def group_ids(store: Reader, user_id: str) -> frozenset[str]:
    """The groups ``user_id`` is a direct member of: a group grants what its direct members may do (docs/behaviour.md
    §4)."""
    return frozenset(str(g["id"]) for g in store.lookup("Groups", "members.value", user_id))


def _holds(perm: Mapping[str, Any], user_id: str, groups: Collection[str]) -> bool:
    return ref_value(perm, "user") == user_id or ref_value(perm, "group") in groups


def _rights(perm: Mapping[str, Any]) -> list[str]:
    rights = perm.get("rights")
    return [r for r in rights if isinstance(r, str)] if isinstance(rights, list) else []


def _permissions(store: Reader, kind: str, user_id: str, groups: Collection[str]) -> list[Mapping[str, Any]]:
    """Every permission of ``kind`` naming the user or one of its groups, from the ``user``/``group`` indexes."""
    found = list(store.lookup(kind, "user.value", user_id))
    for group in groups:
        found.extend(store.lookup(kind, "group.value", group))
    return found


def ancestors(store: Reader, container_id: str) -> list[str]:
    """``container_id`` and its ancestors up to the root (empty when it does not exist); stops on a cycle."""
    chain: list[str] = []
    node: str | None = container_id
    while node is not None and node not in chain:
        doc = store.get("Containers", node)
        if doc is None:
            break
        chain.append(node)
        node = ref_value(doc, "parent")
    return chain


def subtree(store: Reader, roots: Iterable[str], skip: Collection[str] = ()) -> set[str]:
    """``roots`` and all their descendants (through the ``parent.value`` index), never entering ``skip``."""
    seen: set[str] = set()
    todo = [r for r in roots if r not in skip and store.get("Containers", r) is not None]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(str(c["id"]) for c in store.lookup("Containers", "parent.value", node) if c["id"] not in skip)
    return seen


@dataclass(frozen=True)
class Ownership:
    """What one principal owns, computed once (for lists): owned containers, secrets owned through their
    PrivilegedDataPermissions, and the containers where a revocation denies Owner whatever the permissions say."""

    containers: frozenset[str]
    secrets: frozenset[str]
    denied: frozenset[str]

    def owns_container(self, container_id: str | None) -> bool:
        return container_id in self.containers

    def owns_secret(self, secret: Mapping[str, Any]) -> bool:
        container = ref_value(secret, "container")
        if container is not None and container in self.denied:
            return False
        return container in self.containers or str(secret.get("id")) in self.secrets


NOBODY = Ownership(frozenset(), frozenset(), frozenset())


def ownership(store: Reader, user_id: str | None, revoked: Collection[str] = ()) -> Ownership:
    """Everything ``user_id`` owns: Owner grants of the user and its groups, inherited by every descendant
    (docs/behaviour.md §4), minus the subtrees of ``revoked`` containers (docs/behaviour.md §10). Cost: the principal's
    permissions plus the owned subtrees, never containers times permissions."""
    if user_id is None:
        return NOBODY
    groups = group_ids(store, user_id)
    denied = frozenset(subtree(store, revoked))
    roots = {ref_value(p, "container") for p in _permissions(store, "ContainerPermissions", user_id, groups)
             if OWNER in _rights(p)}
    containers = frozenset(subtree(store, (r for r in roots if r is not None), skip=denied))
    secrets = frozenset(
        secret for p in _permissions(store, "PrivilegedDataPermissions", user_id, groups)
        if OWNER in _rights(p) and (secret := ref_value(p, "privilegedData")) is not None
    )
    return Ownership(containers, secrets, denied)


def _container_rights(store: Reader, chain: Iterable[str], user_id: str, groups: Collection[str]) -> set[str]:
    """The rights the user or its groups hold on any container of ``chain`` (permissions pass down, docs/behaviour.md
    §4)."""
    return {
        right
        for node in chain
        for p in store.lookup("ContainerPermissions", "container.value", node)
        if _holds(p, user_id, groups)
        for right in _rights(p)
    }


def owns_container(store: Reader, user_id: str | None, container_id: str, revoked: Collection[str] = ()) -> bool:
    """Owner on one container: an Owner grant on it or an ancestor, and no revocation on the way up."""
    if user_id is None:
        return False
    chain = ancestors(store, container_id)
    if not chain or any(node in revoked for node in chain):
        return False
    return OWNER in _container_rights(store, chain, user_id, group_ids(store, user_id))


def owns_secret(store: Reader, user_id: str | None, secret: Mapping[str, Any], revoked: Collection[str] = ()) -> bool:
    """Owner on a secret: Owner on its container, or a PrivilegedDataPermission with Owner (docs/behaviour.md §4); a
    revocation on its container's subtree denies both (the secret inherits from its container, docs/behaviour.md
    §10)."""
    return OWNER in facade_rights(store, user_id, secret_id=str(secret.get("id")), revoked=revoked)


def facade_rights(store: Reader, user_id: str | None, container_id: str | None = None, secret_id: str | None = None,
                  *, revoked: Collection[str] = ()) -> set[str]:
    """The rights (Owner, Edit, Add Secret, View, List) ``user_id`` holds on a folder or one of its ancestors and,
    for a secret, on the secret itself (its PrivilegedDataPermissions) and its folder's chain (docs/behaviour.md §9).
    ``container_id`` defaults to the secret's container; a missing folder or secret gives no rights. ``revoked``
    containers (``revoked_for``) take Owner away on their subtree (docs/behaviour.md §10)."""
    if user_id is None:
        return set()
    groups = group_ids(store, user_id)
    rights: set[str] = set()
    if secret_id is not None:
        secret = store.get("PrivilegedData", secret_id)
        if secret is None:
            return set()
        for p in store.lookup("PrivilegedDataPermissions", "privilegedData.value", secret_id):
            if _holds(p, user_id, groups):
                rights.update(_rights(p))
        if container_id is None:
            container_id = ref_value(secret, "container")
    if container_id is not None:
        chain = ancestors(store, container_id)
        if not chain and secret_id is None:
            return set()
        rights |= _container_rights(store, chain, user_id, groups)
        if any(node in revoked for node in chain):
            rights.discard(OWNER)
    return rights
