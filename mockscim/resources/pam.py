"""What the four PAM kinds share: integer ids, Owner checks for the caller, reference filters and rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources import owner
from mockscim.resources.base import Doc, Kind
from mockscim.scim.errors import OwnerRequired
from mockscim.scim.filters import eq_terms

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal
    from mockscim.scim.filters import Node




class PamKind(Kind):
    """A Secret Server object (docs/behaviour.md §3): integer-string ids, visible only to its Owner (docs/behaviour.md
    §4)."""

    # -- Owner (docs/behaviour.md §4, §10) -----------------------------------------------------------------------------
    def revoked(self, caller: Principal) -> frozenset[str]:
        """Containers a scenario revoked the caller's Owner on (``Core.revoked``, docs/behaviour.md §10)."""
        return owner.revoked_for(self.context.revoked, caller.user_name)

    def ownership(self, caller: Principal) -> owner.Ownership:
        """Everything the caller owns, computed once for a list."""
        return owner.ownership(self.store, caller.user_id, self.revoked(caller))

    def owns_container(self, container_id: str | None, caller: Principal) -> bool:
        if container_id is None:
            return False
        return owner.owns_container(self.store, caller.user_id, container_id, self.revoked(caller))

    def owns_secret(self, secret: Mapping[str, Any] | None, caller: Principal) -> bool:
        if secret is None:
            return False
        return owner.owns_secret(self.store, caller.user_id, secret, self.revoked(caller))

    def guard_reference(self, node: Node | None, path: str, target: str, owns: Callable[[str], bool]) -> None:
        """docs/behaviour.md §4: a filter naming a specific container or secret by reference (``container.value eq``) of
        something the caller does not own → 403; naming nothing existing → the (empty) list."""
        if node is None:
            return
        for attr, value in eq_terms(node):
            if attr.urn is not None and attr.urn.lower() != self.rtype.schema.id.lower():
                continue
            if self.canonical_path(attr.dotted()) != path or not isinstance(value, str):
                continue
            if self.store.get(target, value) is not None and not owns(value):
                raise OwnerRequired()

    # -- writing -----------------------------------------------------------------------------------------------
    @staticmethod
    def bare_refs(doc: Doc, *attrs: str) -> None:
        """Store references as ``{value}`` only: ``display``/``name``/``$ref`` are derived when rendering."""
        for attr in attrs:
            ref = doc.get(attr)
            if isinstance(ref, Mapping) and "value" in ref:
                doc[attr] = {"value": ref["value"]}

    def stamped(self, kind: str, doc: Doc, old: Mapping[str, Any] | None = None) -> Doc:
        """``doc`` with the ``schemas`` and ``meta`` a write of ``kind`` gives it (for changes made on the side)."""
        now = self.context.now()
        created = (old or {}).get("meta", {}).get("created", now)
        doc["schemas"] = self.context.kinds[kind].schemas(doc)
        doc["meta"] = {"resourceType": self.context.kinds[kind].rtype.name, "created": created, "lastModified": now,
                       "version": self.context.new_version()}
        return doc

    # -- rendering ---------------------------------------------------------------------------------------------
    def render_ref(self, out: Doc, attr: str, target: str, base: str, *, with_name: bool = False) -> None:
        """Fill ``out[attr]`` in as ``{value, display, $ref}`` (``{value, display, name, $ref}`` with ``with_name``)."""
        value = owner.ref_value(out, attr)
        if value is None:
            return
        doc = self.store.get(target, value)
        display = None if doc is None else doc.get(kinds.display_attribute(target) or "name") or doc.get("name")
        out[attr] = self.ref(target, value, base, display)
        if with_name and doc is not None:
            # docs/behaviour.md §3: a ContainerPermission's container is {value, display, name, $ref}.
            out[attr] = {"value": value, "display": display, "name": doc.get("name"), "$ref": out[attr]["$ref"]}
