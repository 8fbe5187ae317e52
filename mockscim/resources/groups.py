"""Groups (docs/behaviour.md §3): displayName unique per profile, members are existing Users (no nested groups)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources.base import Doc, Kind
from mockscim.scim.errors import InvalidAttribute
from mockscim.store import Change, Delete
from mockscim.surfaces import scim_url

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal


class Groups(Kind):
    spec = kinds.GROUPS

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        self.require(doc)
        members: list[dict[str, Any]] = []
        seen: set[str] = set()
        for member in doc.get("members", []):
            value = member.get("value")
            user = self.store.get("Users", value) if isinstance(value, str) else None
            if user is None:
                # docs/behaviour.md §3: a member that does not exist (or is not a User) names the top-level attribute.
                raise InvalidAttribute("members")
            if value in seen:
                continue
            seen.add(value)
            members.append({"value": value, "display": member.get("display") or user.get("userName"), "type": "User"})
        if members:
            doc["members"] = members
        else:
            doc.pop("members", None)
        if "Groups.displayName" in self.context.profile.unique:
            self.unique(doc, "displayName")
        return []

    def on_delete(self, doc: Mapping[str, Any]) -> list[Change]:
        """docs/behaviour.md §4: deleting a group deletes the permissions that name it."""
        return [
            Delete(spec.name, p)
            for spec in kinds.PERMISSIONS
            for p in self.store.lookup_ids(spec.name, "group.value", doc["id"])
        ]

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        out = super().render(doc, base)
        if "members" in out:
            out["members"] = [
                {**m, "$ref": scim_url(base, kinds.USERS.name, m["value"])} for m in out["members"]
            ]
        return out
