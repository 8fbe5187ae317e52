"""Users (docs/behaviour.md §3): unique userName, federated users, write-only password, derived groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.auth.passwords import hash_password
from mockscim.resources.base import Doc, Kind
from mockscim.scim.errors import NotAuthorized
from mockscim.scim.schema import LINKED_OBJECT
from mockscim.scim.validate import schemas_of
from mockscim.store import Change, Delete, Put
from mockscim.store.members import GroupDoc

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal


def _emails(value: Any) -> frozenset[tuple[Any, Any, Any]]:
    # docs/behaviour.md §3: emails compare as a set of (lower-cased value, type, primary).
    return frozenset(
        (str(e.get("value", "")).lower(), e.get("type"), bool(e.get("primary")))
        for e in (value or []) if isinstance(e, Mapping)
    )


def _name(value: Any) -> dict[str, Any]:
    return {k: v for k, v in (value or {}).items() if v not in (None, "")}


class Users(Kind):
    spec = kinds.USERS

    def prepare(self, doc: Doc, old: Mapping[str, Any] | None) -> None:
        # Okta sends a placeholder password on every create (docs/behaviour.md §6): store a salted hash, never the text.
        password = doc.pop("password", None)
        if isinstance(password, str):
            doc["passwordHash"] = hash_password(password)

    def carry_over(self, new: Doc, old: Mapping[str, Any]) -> None:
        if "password" not in new and "passwordHash" in old:
            new["passwordHash"] = old["passwordHash"]
        # docs/behaviour.md §11: extension data the profile does not serve (LinkedObject under rfc) is kept across a
        # PUT.
        new.update({k: old[k] for k in self._unserved(old)})

    def _unserved(self, doc: Mapping[str, Any]) -> list[str]:
        """The extension URN keys of a stored user that this profile's User resource type does not declare."""
        if len(self.rtype.extensions) == len(self.context.profile.all_types["Users"].extensions):
            return []  # this profile serves every extension a stored user can carry (cloud): nothing to hide
        ext = self.rtype.ext  # a dict lookup (schema.py), called per key of every rendered user
        return [k for k in doc if k.startswith("urn:") and ext(k) is None]

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        self.require(doc)
        if old is not None and self.context.profile.federated_rule:
            self._federated(doc, old)
        self.unique(doc, "userName")
        return []

    def _federated(self, new: Mapping[str, Any], old: Mapping[str, Any]) -> None:
        """docs/behaviour.md §3 [D]: displayName, emails and name of a federated user cannot change."""
        linked = old.get(LINKED_OBJECT)
        if not (isinstance(linked, Mapping) and linked.get("source")):
            return
        if (new.get("displayName") != old.get("displayName")
                or _emails(new.get("emails")) != _emails(old.get("emails"))
                or _name(new.get("name")) != _name(old.get("name"))):
            raise NotAuthorized()

    def on_delete(self, doc: Mapping[str, Any]) -> list[Change]:
        """docs/behaviour.md §4 [D]: a deleted user leaves every group; permissions naming it go; so does its service
        user."""
        uid = doc["id"]
        changes: list[Change] = []
        for group in self.store.lookup("Groups", "members.value", uid):
            edit = group.edit() if isinstance(group, GroupDoc) else None
            if edit is not None and edit.remove_member(uid):
                changes.append(Put("Groups", edit))  # the one member, not the group (docs/behaviour.md §6)
                continue
            members = [m for m in group.get("members", []) if m.get("value") != uid]
            updated = {**group, "members": members} if members else {k: v for k, v in group.items() if k != "members"}
            changes.append(Put("Groups", updated))
        for spec in kinds.PERMISSIONS:
            changes.extend(Delete(spec.name, p) for p in self.store.lookup_ids(spec.name, "user.value", uid))
        for container in self.store.lookup("Containers", "owner.value", uid):  # the owner index: no scan
            changes.append(Put("Containers", {k: v for k, v in container.items() if k != "owner"}))
        user_name = str(doc.get("userName", ""))
        for su in self.store.all("serviceUsers"):
            if str(su["userName"]).lower() == user_name.lower():
                changes.append(Delete("serviceUsers", su["userName"]))
                self.context.on_service_user_removed(su["userName"])
        return changes

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        out = super().render(doc, base)
        unserved = self._unserved(doc)
        if unserved:
            # docs/behaviour.md §11: LinkedObject data under rfc is loaded and kept, not served; RFC 7643 §3: a resource
            # carries only the extensions its resource type declares (§6 schemaExtensions), and lists those in
            # "schemas".
            for key in unserved:
                del out[key]
            out["schemas"] = schemas_of(self.rtype, out)
        groups = self.store.lookup("Groups", "members.value", doc["id"])
        if groups:
            # RFC 7643 §4.1.2: groups is read-only, derived from Group membership.
            out["groups"] = [
                {**self.ref("Groups", g["id"], base, g.get("displayName")), "type": "direct"} for g in groups
            ]
        return out
