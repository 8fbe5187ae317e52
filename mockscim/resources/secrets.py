"""PrivilegedData (docs/behaviour.md §3, §4, §8): Secret Server secrets, read-only over SCIM, fields never exposed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources.base import Doc
from mockscim.resources.pam import PamKind
from mockscim.scim.errors import MethodNotAllowed, NotFound, OwnerRequired, ServiceUnavailable
from mockscim.store import Change, Delete

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal
    from mockscim.scim.filters import Node


class PrivilegedData(PamKind):
    spec = kinds.PRIVILEGED_DATA

    def before_read(self, caller: Principal) -> None:
        # docs/behaviour.md §8 [D]: every GET needs Secret Server; 503 before 404 and 403, also for unknown or non-owned
        # ids.
        if not self.context.secret_server_up:
            raise ServiceUnavailable()

    def before_create(self, caller: Principal) -> None:
        # docs/behaviour.md §4 [D]: the Platform prevents creating privileged data, whatever methods a profile routes.
        raise MethodNotAllowed(allow=("GET",))

    def require_owner(self, doc: Mapping[str, Any], caller: Principal) -> None:
        if doc.get("active", True) is False:
            raise NotFound(str(doc["id"]))  # docs/behaviour.md §9: a deactivated secret is gone from SCIM
        if not self.owns_secret(doc, caller):
            raise OwnerRequired()  # docs/behaviour.md §4 [D]: 403 for secrets the caller does not own

    def visibility(self, caller: Principal) -> Callable[[Mapping[str, Any]], bool]:
        owns = self.ownership(caller).owns_secret
        # docs/behaviour.md §9: a deactivated secret is absent from SCIM lists (the state export keeps it)
        return lambda doc: doc.get("active", True) is not False and owns(doc)

    def guard_filter(self, node: Node | None, caller: Principal) -> None:
        # docs/behaviour.md §4: container.value eq <a container the caller does not own> → 403.
        self.guard_reference(node, "container.value", "Containers", lambda c: self.owns_container(c, caller))

    def on_delete(self, doc: Mapping[str, Any]) -> list[Change]:
        """Only for a profile that allows DELETE (cloud answers 405): the secret's permissions go with it."""
        return [Delete("PrivilegedDataPermissions", p["id"])
                for p in self.store.lookup("PrivilegedDataPermissions", "privilegedData.value", doc["id"])]

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        # drops `fields`: only the facade and the state export show them (docs/behaviour.md §13)
        out = super().render(doc, base)
        self.render_ref(out, "container", "Containers", base)
        return out
