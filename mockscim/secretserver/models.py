"""Secret Server API shapes and access (docs/behaviour.md §9): pure functions over the store."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mockscim import kinds
from mockscim.auth.principal import Principal
from mockscim.resources import owner
from mockscim.store import Store

READ_RIGHTS = frozenset({"View", "Edit", "Owner"})
"""docs/behaviour.md §9: reading a secret and its fields needs one of these on the secret, its folder or an ancestor."""

DEFAULT_TAKE = 10
"""[C] ``take`` when a search sends none (Secret Server pages by 10 in its UI and API examples)."""


# -- values -----------------------------------------------------------------------------------------------------
def ss_id(value: Any) -> int | str:
    """Folder and secret ids are integers in Secret Server; a non-numeric store id is passed through as text."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else text


def ss_date(value: Any) -> str | None:
    """An RFC 3339 timestamp as Secret Server writes it: seconds precision, no timezone suffix (the SDK's
    ``ServerSecret`` parses ``%Y-%m-%dT%H:%M:%S`` and raises on ``Z`` or an offset, docs/behaviour.md §9)."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    return value[:19]


def sub_map(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``doc[key]`` when it is an object, else an empty one."""
    value = doc.get(key)
    return value if isinstance(value, Mapping) else {}


def _stable_int(text: str) -> int:
    """[C] A stable positive id for things mockscim has no id for (templates, template fields)."""
    return zlib.crc32(text.encode()) % 1_000_000 + 1


def truthy(raw: str | None) -> bool:
    """A query boolean as the SDK sends it (``True``; docs/behaviour.md §9), any case."""
    return (raw or "").strip().lower() in {"true", "1", "yes"}


def normalise_path(raw: str) -> list[str]:
    r"""``\A\B`` / ``/A/B`` / ``A\\B`` → ``["A", "B"]`` (the SDK's own normalisation, docs/behaviour.md §9)."""
    return [part for part in raw.replace("/", "\\").split("\\") if part]


# -- access (docs/behaviour.md §9) -------------------------------------------------------------------------------------
class Access:
    """What one caller may see, with each folder's rights computed once per request."""

    def __init__(self, store: Store, caller: Principal, revoked: Iterable[tuple[str, str]]) -> None:
        self.store = store
        self.user_id = caller.user_id
        self.revoked = owner.revoked_for(revoked, caller.user_name)
        self._folders: dict[str, set[str]] = {}
        self._granted: frozenset[str] | None = None

    def folder_rights(self, container_id: str) -> set[str]:
        if container_id not in self._folders:
            self._folders[container_id] = owner.facade_rights(
                self.store, self.user_id, container_id=container_id, revoked=self.revoked)
        return self._folders[container_id]

    def secret_rights(self, secret_id: str) -> set[str]:
        return owner.facade_rights(self.store, self.user_id, secret_id=secret_id, revoked=self.revoked)

    def can_see_folder(self, container_id: str) -> bool:
        """docs/behaviour.md §9: any right on the folder or an ancestor."""
        return bool(self.folder_rights(container_id))

    def can_read_secret(self, secret_id: str) -> bool:
        """docs/behaviour.md §9: View, Edit or Owner on the secret, its folder or an ancestor."""
        return bool(self.secret_rights(secret_id) & READ_RIGHTS)

    def can_list_secret(self, secret: Mapping[str, Any]) -> bool:
        """[C] A search lists the secrets the caller holds any right on (List included), as Secret Server does."""
        if self.user_id is None:
            return False
        container = owner.ref_value(secret, "container")
        if container is not None and self.folder_rights(container):
            return True
        sid = str(secret["id"])
        return sid in self._secrets_granted() and bool(self.secret_rights(sid))

    def _secrets_granted(self) -> frozenset[str]:
        """The secrets a PrivilegedDataPermission names the caller or one of its groups on (computed once), so a
        search skips the folder walk for the many secrets the caller has nothing on."""
        if self._granted is None:
            assert self.user_id is not None
            holders = [("user.value", self.user_id),
                       *(("group.value", g) for g in owner.group_ids(self.store, self.user_id))]
            self._granted = frozenset(
                ref for attr, value in holders
                for p in self.store.lookup("PrivilegedDataPermissions", attr, value)
                if (ref := owner.ref_value(p, "privilegedData")) is not None
            )
        return self._granted


# -- folders ----------------------------------------------------------------------------------------------------
def folder_chain(store: Store, container_id: str) -> list[Mapping[str, Any]]:
    """The folder and its ancestors, root first."""
    docs = [store.get("Containers", c) for c in owner.ancestors(store, container_id)]
    return [d for d in reversed(docs) if d is not None]


def folder_path(store: Store, container_id: str | None) -> str:
    r"""``\Infrastructure\Databases``, built from container names (docs/behaviour.md §9); ``\`` for no folder."""
    if container_id is None:
        return "\\"
    return "\\" + "\\".join(str(d.get("name", "")) for d in folder_chain(store, container_id))


def children(store: Store, container_id: str | None) -> list[Mapping[str, Any]]:
    """Direct child folders (roots for ``None``), in store order."""
    if container_id is None:
        return [c for c in store.all("Containers") if owner.ref_value(c, "parent") is None]
    return list(store.lookup("Containers", "parent.value", container_id))


def find_folder(store: Store, names: Sequence[str]) -> Mapping[str, Any] | None:
    """The folder a path names, walking names down from the roots (case-insensitive, like SCIM names)."""
    found: Mapping[str, Any] | None = None
    for name in names:
        parent = None if found is None else str(found["id"])
        found = next((c for c in children(store, parent) if str(c.get("name", "")).lower() == name.lower()), None)
        if found is None:
            return None
    return found


def find_secret(store: Store, names: Sequence[str]) -> Mapping[str, Any] | None:
    r"""The secret ``\Folder\Sub\Name`` names: a secret called ``Name`` in that folder (or in no folder)."""
    if not names:
        return None
    folder = find_folder(store, names[:-1]) if len(names) > 1 else None
    if len(names) > 1 and folder is None:
        return None
    want = None if folder is None else str(folder["id"])
    return next((s for s in store.lookup("PrivilegedData", "name", names[-1])
                 if owner.ref_value(s, "container") == want), None)


def folder_model(store: Store, doc: Mapping[str, Any], *, with_children: bool) -> dict[str, Any]:
    """FolderModel (docs/behaviour.md §9); ``childFolders`` is the subtree when ``getAllChildren=true``."""
    cid = str(doc["id"])
    parent = owner.ref_value(doc, "parent")
    kids = None
    if with_children:
        kids = [folder_model(store, c, with_children=True) for c in children(store, cid)]
    return {
        "id": ss_id(cid),
        "folderName": doc.get("name"),
        "folderPath": folder_path(store, cid),
        "parentFolderId": -1 if parent is None else ss_id(parent),
        "folderTypeId": 1,
        "secretPolicyId": -1,
        "inheritSecretPolicy": parent is not None,
        "inheritPermissions": True,
        "childFolders": kids,
        "secretTemplates": [],
    }


# -- secrets ----------------------------------------------------------------------------------------------------
def template_of(store: Store, secret: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The secret's template (docs/behaviour.md §13: the state resolves ``secretTemplateId`` at load)."""
    tid = secret.get("secretTemplateId")
    found: Mapping[str, Any] | None = None if tid is None else store.get(kinds.SECRET_TEMPLATES, str(tid))
    return found


def _item(item_id: int, field_id: int, name: str, slug: str, description: str, value: Any, *, is_file: bool,
          notes: bool, password: bool) -> dict[str, Any]:
    attached = is_file and isinstance(value, Mapping)
    return {
        "itemId": item_id,
        "fieldId": field_id,
        # A file field with a file: its attachment id and filename (the SDKs then download it, docs/behaviour.md §9).
        "fileAttachmentId": item_id if attached else None,
        "fieldName": name,
        "slug": slug,
        "fieldDescription": description,
        "filename": str(value.get("filename")) if attached else None,
        "itemValue": "*** Not Valid For Display ***" if attached else ("" if value is None or is_file else str(value)),
        "isFile": is_file,
        "isNotes": notes,
        "isPassword": password,
        "isList": False,
        "listType": "None",
    }


def secret_items(store: Store, secret: Mapping[str, Any]) -> list[dict[str, Any]]:
    """RestSecretItem per field of the secret's template, then per extra field it carries (docs/behaviour.md §13)."""
    fields = sub_map(secret, "fields")
    template = template_of(store, secret)
    base = int(sid) * 100 if (sid := str(secret["id"])).isascii() and sid.isdigit() else 0
    items: list[dict[str, Any]] = []
    own: set[str] = set()
    for f in [] if template is None else template["fields"]:
        slug = str(f["fieldSlugName"])
        own.add(slug)
        items.append(_item(base + len(items) + 1, int(f["secretTemplateFieldId"]), str(f["displayName"]), slug,
                           str(f.get("description") or ""), fields.get(slug), is_file=bool(f["isFile"]),
                           notes=bool(f["isNotes"]), password=bool(f["isPassword"])))
    name_of_template = str(secret.get("type") or "Password")
    for slug, value in fields.items():
        if slug in own:
            continue
        name = str(slug).replace("-", " ").replace("_", " ").title()
        items.append(_item(base + len(items) + 1, _stable_int(f"{name_of_template}/{slug}"), name, str(slug),
                           f"The {name}.", value, is_file=False, notes=str(slug).lower() == "notes",
                           password=str(slug).lower() == "password"))
    return items


def _check_out(store: Store, secret: Mapping[str, Any], checked_out: Mapping[str, str]) -> tuple[int | str, str]:
    holder = checked_out.get(str(secret["id"]))
    if holder is None:
        return -1, ""
    user = store.get("Users", holder)
    return holder, "" if user is None else str(user.get("displayName") or user.get("userName") or "")


def _secret_common(store: Store, secret: Mapping[str, Any], checked_out: Mapping[str, str]) -> dict[str, Any]:
    container = owner.ref_value(secret, "container")
    template = template_of(store, secret)
    meta = sub_map(secret, "meta")
    changed = ss_date(meta.get("lastModified")) or ss_date(meta.get("created")) or "2000-01-01T00:00:00"
    return {
        "id": ss_id(secret["id"]),
        "name": secret.get("name"),
        "folderId": -1 if container is None else ss_id(container),
        "secretTemplateId": template["id"] if template is not None else _stable_int(str(secret.get("type"))),
        "secretTemplateName": template["name"] if template is not None else str(secret.get("type") or "Password"),
        "siteId": secret.get("siteId", 1),
        "active": secret.get("active", True) is not False,
        "checkedOut": str(secret["id"]) in checked_out,
        "checkOutEnabled": secret.get("checkOutEnabled") is True,
        "requiresComment": secret.get("requiresComment") is True,
        "autoChangeEnabled": secret.get("autoChangeEnabled") is True,
        "isRestricted": False,
        "isOutOfSync": False,
        "outOfSyncReason": "",
        "lastHeartBeatStatus": "Pending",
        # Never null: ServerSecret(**...) parses these two with strptime (docs/behaviour.md §9).
        "lastHeartBeatCheck": changed,
        "lastPasswordChangeAttempt": changed,
        "responseCodes": [],
    }


def secret_model(store: Store, secret: Mapping[str, Any], checked_out: Mapping[str, str] | None = None
                 ) -> dict[str, Any]:
    """SecretModel (docs/behaviour.md §9) with ``items[]`` from the secret's template and ``fields``."""
    holder, holder_name = _check_out(store, secret, checked_out or {})
    return {
        **_secret_common(store, secret, checked_out or {}),
        "enableInheritPermissions": secret.get("enableInheritPermissions", True) is not False,
        "enableInheritSecretPolicy": secret.get("enableInheritSecretPolicy", True) is not False,
        "secretPolicyId": secret.get("secretPolicyId", -1),
        "sessionRecordingEnabled": secret.get("sessionRecordingEnabled") is True,
        "proxyEnabled": secret.get("proxyEnabled") is True,
        "checkOutChangePasswordEnabled": secret.get("checkOutChangePasswordEnabled") is True,
        "checkOutIntervalMinutes": secret.get("checkOutIntervalMinutes", -1),
        "checkOutMinutesRemaining": -1,
        "checkOutUserDisplayName": holder_name,
        "checkOutUserId": holder,
        "doubleLockId": -1,
        "isDoubleLock": False,
        "failedPasswordChangeAttempts": 0,
        "launcherConnectAsSecretId": secret.get("launcherConnectAsSecretId", -1),
        "passwordTypeWebScriptId": secret.get("passwordTypeWebScriptId", -1),
        "requiresApprovalForAccess": False,
        "restrictSshCommands": False,
        "allowOwnersUnrestrictedSshCommands": False,
        "webLauncherRequiresIncognitoMode": secret.get("webLauncherRequiresIncognitoMode") is True,
        "accessRequestWorkflowMapId": -1,
        "items": secret_items(store, secret),
    }


def secret_summary(store: Store, secret: Mapping[str, Any], checked_out: Mapping[str, str] | None = None,
                   extended: Mapping[str, str] | None = None) -> dict[str, Any]:
    """SecretSummary, one record of a secrets search and ``GET /secrets/{id}/summary``, with every key of Secret
    Server's model (docs/behaviour.md §9)."""
    common = _secret_common(store, secret, checked_out or {})
    holder, holder_name = _check_out(store, secret, checked_out or {})
    meta = sub_map(secret, "meta")
    return {
        **{k: v for k, v in common.items() if k not in ("lastHeartBeatCheck", "lastPasswordChangeAttempt")},
        "folderPath": folder_path(store, owner.ref_value(secret, "container")),
        "lastAccessed": None,
        "createDate": ss_date(meta.get("created")),
        "daysUntilExpiration": None,
        "hasLauncher": False,
        "checkOutUserId": holder,
        "checkOutUserName": holder_name,
        "doubleLockEnabled": False,
        "requiresApproval": False,
        "inheritsPermissions": secret.get("enableInheritPermissions", True) is not False,
        "hidePassword": False,
        "extendedValues": extended,
    }


def search_folders(store: Store, access: Access, params: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The folders a lookup finds (``filter.parentFolderId``, ``filter.limitToDirectDescendents``,
    ``filter.searchText``), limited to folders the caller holds a right on."""
    parent = params.get("filter.parentFolderId") or None
    if parent in ("-1", "0"):
        parent = None
    direct = truthy(params.get("filter.limitToDirectDescendents"))
    candidates: Iterable[Mapping[str, Any]]
    if direct:
        candidates = children(store, parent)
    elif parent is not None:
        ids = owner.subtree(store, [parent]) - {parent}
        candidates = [d for d in store.all("Containers") if str(d["id"]) in ids]
    else:
        candidates = store.all("Containers")
    text = (params.get("filter.searchText") or "").lower()
    return [c for c in candidates
            if text in str(c.get("name", "")).lower() and access.can_see_folder(str(c["id"]))]


# -- users ------------------------------------------------------------------------------------------------------
def user_model(user: Mapping[str, Any]) -> dict[str, Any]:
    """UserModel from a SCIM User. [C] ``id`` is the SCIM id itself (a UUID string where Secret Server has an
    integer), so a record can be fetched again as ``/scim/v2/Users/{id}``; nothing in the SDK reads it."""
    raw = user.get("emails")
    emails: list[Any] = raw if isinstance(raw, list) else []
    primary = next((e for e in emails if isinstance(e, Mapping) and e.get("primary")), None)
    email = primary or next((e for e in emails if isinstance(e, Mapping)), None)
    meta = sub_map(user, "meta")
    return {
        "id": str(user["id"]),
        "userName": user.get("userName"),
        "displayName": user.get("displayName") or user.get("userName"),
        "emailAddress": None if email is None else email.get("value"),
        "enabled": user.get("active", True) is not False,
        "domainId": -1,
        "isApplicationAccount": user.get("userType") == "Service",
        "isLockedOut": False,
        "created": ss_date(meta.get("created")),
        "lastLogin": None,
        "externalUserSource": "None",
    }


def search_users(store: Store, params: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """SCIM users as Secret Server users: ``filter.searchText`` on userName/displayName, enabled ones unless
    ``filter.includeInactive``."""
    text = (params.get("filter.searchText") or "").lower()
    inactive = truthy(params.get("filter.includeInactive"))
    return [u for u in store.all("Users")
            if (text in str(u.get("userName", "")).lower() or text in str(u.get("displayName", "")).lower())
            and (inactive or u.get("active", True) is not False)]


# -- paging -----------------------------------------------------------------------------------------------------
def paging(skip: int, take: int, found: Sequence[Mapping[str, Any]],
           render: Callable[[Mapping[str, Any]], dict[str, Any]], *, total: int | None = None,
           sort_by: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The Paging* envelope Secret Server wraps every search in (docs/behaviour.md §9), over ``skip``/``take``;
    ``total`` is ``len(found)`` unless given (``doNotCalculateTotal``)."""
    count = len(found) if total is None else total
    records = [render(d) for d in found[skip:skip + take]]
    return {
        "skip": skip,
        "take": take,
        "total": count,
        "pageCount": math.ceil(count / take) if take else 0,
        "currentPage": skip // take + 1 if take else 1,
        "batchCount": math.ceil(count / take) if take else 0,
        "prevSkip": max(skip - take, 0),
        "nextSkip": skip + take,
        "hasPrev": skip > 0,
        "hasNext": skip + take < len(found),
        "records": records,
        "sortBy": sort_by or [],
        "success": True,
        "severity": "None",
    }
