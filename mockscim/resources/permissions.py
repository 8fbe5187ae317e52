"""Container and PrivilegedData permissions (docs/behaviour.md §3, §4): each belongs to its container or secret."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources.base import Doc
from mockscim.resources.owner import ref_value
from mockscim.resources.pam import PamKind
from mockscim.scim.errors import Immutable, InvalidAttribute, NotUnique, OwnerRequired, RequiredAttribute
from mockscim.store import Change

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal
    from mockscim.scim.filters import Node


class ContainerPermissions(PamKind):
    spec = kinds.CONTAINER_PERMISSIONS

    def prepare(self, doc: Doc, old: Mapping[str, Any] | None) -> None:
        self.bare_refs(doc, "container", "user", "group")
        if isinstance(doc.get("rights"), list):
            doc["rights"] = list(dict.fromkeys(doc["rights"]))

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        if old is not None:
            for attr in ("container", "user", "group"):
                # docs/behaviour.md §3: only rights may change; adding the other principal kind is a change too.
                if ref_value(doc, attr) != ref_value(old, attr):
                    raise Immutable(attr)
        if "container" not in doc:
            raise RequiredAttribute("container")
        is_user, is_group = "user" in doc, "group" in doc
        if not (is_user or is_group):
            raise RequiredAttribute("user")  # docs/behaviour.md §3: neither → user is required
        if is_user and is_group:
            raise InvalidAttribute("group")  # docs/behaviour.md §3: both → group is invalid
        self.require(doc)
        container = self.reference(doc, "container", "Containers")
        principal = "user" if is_user else "group"
        self.reference(doc, principal, "Users" if is_user else "Groups")
        assert container is not None
        if old is None and not self.owns_container(str(container["id"]), caller):
            raise OwnerRequired()  # docs/behaviour.md §4 precedence 8: Owner on the named container
        for other in self.store.lookup(self.endpoint, "container.value", container["id"]):
            # docs/behaviour.md §3: one permission per (container, principal) → 409 naming user or group (precedence 9).
            if other["id"] != doc["id"] and ref_value(other, principal) == ref_value(doc, principal):
                raise NotUnique(principal)
        return []

    def require_owner(self, doc: Mapping[str, Any], caller: Principal) -> None:
        if not self.owns_container(ref_value(doc, "container"), caller):
            raise OwnerRequired()  # docs/behaviour.md §4 [D]: a permission belongs to its container

    def visibility(self, caller: Principal) -> Callable[[Mapping[str, Any]], bool]:
        owned = self.ownership(caller)
        return lambda doc: owned.owns_container(ref_value(doc, "container"))

    def guard_filter(self, node: Node | None, caller: Principal) -> None:
        # docs/behaviour.md §4 [D]: container.value eq <a container the caller does not own> → 403.
        self.guard_reference(node, "container.value", "Containers", lambda c: self.owns_container(c, caller))

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        out = super().render(doc, base)
        self.render_ref(out, "container", "Containers", base, with_name=True)
        self.render_ref(out, "user", "Users", base)
        self.render_ref(out, "group", "Groups", base)
        return out


class PrivilegedDataPermissions(PamKind):
    """Read-only over SCIM (docs/behaviour.md §4 [D]: creation is prevented; the cloud profile answers 405 to every
    write)."""

    spec = kinds.PRIVILEGED_DATA_PERMISSIONS

    def _secret(self, doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
        sid = ref_value(doc, "privilegedData")
        return None if sid is None else self.store.get("PrivilegedData", sid)

    def require_owner(self, doc: Mapping[str, Any], caller: Principal) -> None:
        if not self.owns_secret(self._secret(doc), caller):
            raise OwnerRequired()  # docs/behaviour.md §4 [D]: 403 without Owner on the secret

    def visibility(self, caller: Principal) -> Callable[[Mapping[str, Any]], bool]:
        owned = self.ownership(caller)

        def visible(doc: Mapping[str, Any]) -> bool:
            secret = self._secret(doc)
            return secret is not None and owned.owns_secret(secret)

        return visible

    def guard_filter(self, node: Node | None, caller: Principal) -> None:
        # docs/behaviour.md §4: privilegedData.value eq <a secret the caller does not own> → 403.
        self.guard_reference(node, "privilegedData.value", "PrivilegedData",
                             lambda s: self.owns_secret(self.store.get("PrivilegedData", s), caller))

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        out = super().render(doc, base)
        self.render_ref(out, "privilegedData", "PrivilegedData", base)
        self.render_ref(out, "user", "Users", base)
        self.render_ref(out, "group", "Groups", base)
        return out
