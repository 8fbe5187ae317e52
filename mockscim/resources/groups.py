"""Groups (docs/behaviour.md §3): displayName unique per profile, members are existing Users (no nested groups)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mockscim import kinds
from mockscim.resources.base import Doc, Kind
from mockscim.scim.errors import InvalidAttribute
from mockscim.scim.patch_members import apply_member_operations
from mockscim.store import Change, Delete
from mockscim.store.members import MEMBERS, GroupDoc
from mockscim.surfaces import scim_url

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal
    from mockscim.scim.patch import Operation


class Groups(Kind):
    spec = kinds.GROUPS

    def apply_patch(self, old: Mapping[str, Any], ops: Sequence[Operation], *, strict_read_only: bool) -> Doc:
        """A PATCH that only adds or removes single members changes the stored member table by those members
        (docs/behaviour.md §6: its cost does not grow with the group); any other goes the general way."""
        edit = old.edit() if isinstance(old, GroupDoc) else None
        if edit is not None:
            base = apply_member_operations(self.rtype, edit.without_members(), edit, ops, attr=MEMBERS,
                                           resource_id=str(old["id"]), strict_read_only=strict_read_only)
            if base is not None:
                dict.clear(edit)
                dict.update(edit, base)
                return edit
        return super().apply_patch(old, ops, strict_read_only=strict_read_only)

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        self.require(doc)
        if isinstance(doc, GroupDoc) and doc.pending:
            self._validate_added(doc)
        else:
            self._validate_members(doc)
        if "Groups.displayName" in self.context.profile.unique:
            self.unique(doc, "displayName")
        return []

    def _validate_added(self, doc: GroupDoc) -> None:
        """An edit: only the members it adds are checked and given their stored form (the others were, when
        added; a deleted user leaves every group, docs/behaviour.md §4)."""
        added = doc.added()
        for value, member in added.items():
            user = self.store.get("Users", value)
            if user is None:
                raise InvalidAttribute("members")  # docs/behaviour.md §3, as below
            added[value] = {"value": value, "display": member.get("display") or user.get("userName"), "type": "User"}

    def _validate_members(self, doc: Doc) -> None:
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

    def trimmed(self, doc: Mapping[str, Any], keeps: Callable[[str], bool]) -> Mapping[str, Any]:
        if keeps(MEMBERS) or MEMBERS not in doc:
            return doc
        if isinstance(doc, GroupDoc):
            return doc.without_members()
        return {k: v for k, v in doc.items() if k != MEMBERS}

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
