"""Containers (docs/behaviour.md §3, §4): folders, Owner-only, names unique among siblings, secrets moved by PATCH."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources import owner
from mockscim.resources.base import Doc
from mockscim.resources.pam import PamKind
from mockscim.scim.errors import Immutable, InvalidAttribute, InvalidValue, NotUnique, OwnerRequired, ServiceUnavailable
from mockscim.scim.filters import Node, compile_filter, eq_terms, parse_path
from mockscim.scim.patch import Operation, apply_operations
from mockscim.scim.schema import CONTAINER
from mockscim.store import Change, Delete, Put

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal

_PD = "privilegeddata"


def _names_privileged_data(key: str) -> bool:
    """A PATCH path or path-less key naming ``privilegedData`` (plain or URN-qualified, any case)."""
    low = key.lower()
    return low == _PD or low == f"{CONTAINER.lower()}:{_PD}"


class Containers(PamKind):
    spec = kinds.CONTAINERS

    # -- hooks ---------------------------------------------------------------------------------------------------
    def before_create(self, caller: Principal) -> None:
        # docs/behaviour.md §8 [D]: creating a container needs Secret Server: 503 right after authentication, before the
        # body.
        if not self.context.secret_server_up:
            raise ServiceUnavailable()

    def prepare(self, doc: Doc, old: Mapping[str, Any] | None) -> None:
        # docs/behaviour.md §3: derived from the secrets' container, ignored in POST/PUT bodies
        doc.pop("privilegedData", None)
        self.bare_refs(doc, "parent", "owner")
        if isinstance(doc.get("name"), str) and not doc.get("displayName"):
            doc["displayName"] = doc["name"]  # docs/behaviour.md §3: displayName defaults to name

    def carry_over(self, new: Doc, old: Mapping[str, Any]) -> None:
        if "owner" in old:
            new["owner"] = old["owner"]  # read-only: the service user that created it

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        self._check(doc, old)
        parent = owner.ref_value(doc, "parent")
        placed = parent is not None and (old is None or owner.ref_value(old, "parent") is None)
        if placed and not self.owns_container(str(parent), caller):
            # docs/behaviour.md §4: a parent the caller does not own (precedence 8, after validation)
            raise OwnerRequired()
        for other in self.store.lookup("Containers", "name", doc["name"]):
            # docs/behaviour.md §3: name unique among the children of one parent, case-insensitively (precedence 9).
            if other["id"] != doc["id"] and owner.ref_value(other, "parent") == parent:
                raise NotUnique("name")
        if old is not None or caller.user_id is None:
            return []
        # docs/behaviour.md §4 [C]: in the same atomic step the caller becomes Owner (a caller without principal gets
        # neither).
        doc["owner"] = {"value": caller.user_id}
        grant: Doc = {"id": self.store.next_id("ContainerPermissions"), "container": {"value": doc["id"]},
                      "user": {"value": caller.user_id}, "rights": [owner.OWNER]}
        return [Put("ContainerPermissions", self.stamped("ContainerPermissions", grant))]

    def _check(self, doc: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
        """The validation errors (docs/behaviour.md §4 precedence 7): required name, parent immutable and existing."""
        self.require(doc)
        parent = owner.ref_value(doc, "parent")
        if old is not None and parent != (before := owner.ref_value(old, "parent")):
            # docs/behaviour.md §6: an immutable may be set once, but the profile fixes a container's parent at
            # creation (cloud: a root container stays at the root [C]).
            if before is not None or "Containers.parent" in self.context.profile.fixed_at_creation:
                raise Immutable("parent")
            if str(parent) in owner.subtree(self.store, [str(doc["id"])]):
                raise InvalidAttribute("parent")  # under itself or a descendant: no cycle can form
        self.reference(doc, "parent", "Containers")

    def require_owner(self, doc: Mapping[str, Any], caller: Principal) -> None:
        if not self.owns_container(str(doc["id"]), caller):
            raise OwnerRequired()  # docs/behaviour.md §4 [D]: 403 without Owner

    def visibility(self, caller: Principal) -> Callable[[Mapping[str, Any]], bool]:
        owned = self.ownership(caller).containers  # docs/behaviour.md §4 [C]: lists show only owned containers
        return lambda doc: doc["id"] in owned

    def on_delete(self, doc: Mapping[str, Any]) -> list[Change]:
        """Only for a profile that allows DELETE (cloud answers 405): the subtree and its folder permissions go,
        its secrets move to the root."""
        changes: list[Change] = []
        for cid in owner.subtree(self.store, [str(doc["id"])]):
            if cid != doc["id"]:
                changes.append(Delete("Containers", cid))
            changes.extend(Delete("ContainerPermissions", p)
                           for p in self.store.lookup_ids("ContainerPermissions", "container.value", cid))
            changes.extend(Put("PrivilegedData", self._moved(s, None))
                           for s in self.store.lookup("PrivilegedData", "container.value", cid))
        return changes

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        out = super().render(doc, base)
        self.render_ref(out, "parent", "Containers", base)
        self.render_ref(out, "owner", "Users", base)
        # docs/behaviour.md §9: a deactivated secret is gone from SCIM, also from its container's list
        secrets = [s for s in self.store.lookup("PrivilegedData", "container.value", doc["id"])
                   if s.get("active", True) is not False]
        if secrets:
            out["privilegedData"] = [self.ref("PrivilegedData", s["id"], base, s.get("name")) for s in secrets]
        return out

    # -- moving secrets (docs/behaviour.md §4: "Add / Remove Secret in the Folder" [D]) --------------------------------
    def intercept_patch(self, ops: Sequence[Operation], old: Mapping[str, Any],
                        caller: Principal) -> tuple[list[Operation], list[Change]]:
        kept, moves = self._split(ops)
        if not moves:
            return kept, []
        cid = str(old["id"])
        before = [str(s["id"]) for s in self.store.lookup("PrivilegedData", "container.value", cid)]
        members = dict.fromkeys(before)
        for op in moves:
            members = self._move(op, members)
        added = [s for s in members if s not in before]
        removed = [s for s in before if s not in members]
        docs = {s: self.store.get("PrivilegedData", s) for s in (*added, *removed)}
        if not all(self.owns_secret(d, caller) for d in docs.values()):
            # docs/behaviour.md §4 precedence: the rest of the PATCH's validation errors (7) come before this 403 (8).
            dry = apply_operations(self.rtype, old, kept, resource_id=cid,
                                   strict_read_only=self.context.profile.foreign_id == "reject")
            self.prepare(dry, old)
            self._check(dry, old)
            raise OwnerRequired()
        changes: list[Change] = [Put("PrivilegedData", self._moved(docs[s], cid)) for s in added]
        changes.extend(Put("PrivilegedData", self._moved(docs[s], None)) for s in removed)
        # The containers the added secrets leave render another privilegedData: they get a new version
        # (docs/behaviour.md §6).
        left = {owner.ref_value(d, "container") for s in added if (d := docs[s]) is not None} - {cid, None}
        for other in sorted(c for c in left if c is not None):
            doc = self.store.get("Containers", other)
            if doc is not None:
                changes.append(Put("Containers", self.stamped("Containers", dict(doc), doc)))
        return kept, changes

    @staticmethod
    def _split(ops: Sequence[Operation]) -> tuple[list[Operation], list[Operation]]:
        """Operations on ``privilegedData`` (by path, or a key of a path-less value) apart from the others."""
        kept: list[Operation] = []
        moves: list[Operation] = []
        for op in ops:
            if op.path is not None:
                attr = op.path.attr
                (moves if _names_privileged_data(f"{attr.urn}:{attr.name}" if attr.urn else attr.name)
                 else kept).append(op)
                continue
            value = op.value if isinstance(op.value, Mapping) else {}
            named = [k for k in value if isinstance(k, str) and _names_privileged_data(k)]
            if not named:
                kept.append(op)
                continue
            moves.extend(Operation(op.op, parse_path(_PD), value[k], _PD) for k in named)
            kept.append(Operation(op.op, None, {k: v for k, v in value.items() if k not in named}, None))
        return kept, moves

    def _move(self, op: Operation, members: dict[str, None]) -> dict[str, None]:
        """One operation on the container's secrets: ``add`` puts them in, ``remove`` takes them out (by filter,
        listed values, or all), ``replace`` keeps exactly the listed ones."""
        path = op.path
        assert path is not None
        if path.sub is not None or path.attr.sub is not None or (path.filter is not None and op.op != "remove"):
            raise InvalidValue(scim_type="invalidPath")
        if path.filter is not None:
            self._named_exist(path.filter)
            match = compile_filter(path.filter, case_exact=lambda p: p in ("value", "$ref"))
            return {s: None for s in members if not match(self._element(s))}
        if op.value is None:
            return {} if op.op != "add" else members  # RFC 7644 §3.5.2.2: remove without value empties it
        listed = self._listed(op.value)
        if op.op == "add":
            return {**members, **dict.fromkeys(listed)}
        if op.op == "remove":
            return {s: None for s in members if s not in listed}
        return dict.fromkeys(listed)

    def _listed(self, value: Any) -> list[str]:
        """The secret ids of a ``privilegedData`` value; a wrong shape or a missing secret → 400 (docs/behaviour.md
        §3)."""
        ids: list[str] = []
        for item in value if isinstance(value, list) else [value]:
            sid = item.get("value") if isinstance(item, Mapping) else None
            if not isinstance(sid, str) or self.store.get("PrivilegedData", sid) is None:
                raise InvalidAttribute("privilegedData")
            ids.append(sid)
        return ids

    def _named_exist(self, node: Node) -> None:
        """``privilegedData[value eq "X"]`` names X: a secret that does not exist → 400 (docs/behaviour.md §3)."""
        for path, value in eq_terms(node):
            if path.dotted().lower() == "value" and self.store.get("PrivilegedData", str(value)) is None:
                raise InvalidAttribute("privilegedData")

    def _element(self, sid: str) -> dict[str, Any]:
        secret = self.store.get("PrivilegedData", sid) or {}
        return {"value": sid, "display": secret.get("name")}

    def _moved(self, secret: Mapping[str, Any] | None, container: str | None) -> Doc:
        """The secret in ``container`` (``None``: no container, Secret Server's root), with a new version."""
        assert secret is not None
        doc = {k: v for k, v in secret.items() if k != "container"}
        if container is not None:
            doc["container"] = {"value": container}
        return self.stamped("PrivilegedData", doc, secret)
