"""The Secret Server rules (docs/behaviour.md §9): search filters, templates, writes, rights, comment and check-out."""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockscim import kinds
from mockscim.kinds.templates import SECRET_FLAGS, field_by, template_by
from mockscim.resources import owner
from mockscim.secretserver.models import Access, sub_map, truthy
from mockscim.store import Change, Delete, Put, Store

__all__ = [
    "ADD_RIGHTS",
    "EDIT_RIGHTS",
    "FLAGS",
    "CheckOutRequired",
    "CheckedOutByOther",
    "CommentRequired",
    "Denied",
    "FolderNotEmpty",
    "Invalid",
    "KeyPair",
    "Refusal",
    "SecretQuery",
    "UnknownField",
    "Upload",
    "check_read",
    "create_secret",
    "deactivate_secret",
    "delete_folder",
    "editable",
    "folder_query",
    "generate_password",
    "insensitive",
    "keys_for",
    "parent_of",
    "patch_general",
    "rename_folder",
    "secret_query",
    "set_field",
    "template_query",
    "update_secret",
    "user_query",
]

ADD_RIGHTS = frozenset({"Add Secret", "Edit", owner.OWNER})
"""docs/behaviour.md §9: creating a secret in a folder needs one of these on it or an ancestor."""
EDIT_RIGHTS = frozenset({"Edit", owner.OWNER})
"""docs/behaviour.md §9: changing a secret (PUT, PATCH general, a field upload) needs one of these."""

FLAGS = SECRET_FLAGS


# -- refusals: one per Secret Server error code, mapped to the HTTP errors in mockscim/secretserver/errors.py ------
class Refusal(Exception):
    """A request the rules refuse (no HTTP here)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class Denied(Refusal):
    """A denied or missing secret, folder or template (``API_AccessDenied``)."""


class Invalid(Refusal):
    """A request that cannot be honoured; the message names the parameter, field, template or folder."""


class UnknownField(Refusal):
    """A field slug the secret does not have (``API_FieldNotFound``); the message is the slug."""


class CommentRequired(Refusal):
    """``API_ValidateSecretAccessCommentRequired``."""


class CheckOutRequired(Refusal):
    """``API_CheckOutRequired`` [C]."""


class CheckedOutByOther(Refusal):
    """``API_SecretCheckedOut`` [C]."""


class FolderNotEmpty(Refusal):
    """``API_FolderNotEmpty`` [C]."""


# -- request values ---------------------------------------------------------------------------------------------
def insensitive(value: Any) -> Any:
    """A JSON body with every object key lower-cased: request keys are case-insensitive (the Go SDK sends
    ``Name``, ``FolderID``, ``Items``; docs/behaviour.md §9)."""
    if isinstance(value, Mapping):
        return {str(k).lower(): insensitive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [insensitive(v) for v in value]
    return value


def _int(value: Any, name: str) -> int | None:
    """An integer parameter (``5``, ``"5"``); ``None``/empty → ``None``; anything else → :class:`Invalid`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise Invalid(f"{name} must be an integer.")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    digits = text[1:] if text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()):  # int() would also read "1_0" and other scripts' digits
        raise Invalid(f"{name} must be an integer.")
    return int(text)


# -- search (docs/behaviour.md §9) ------------------------------------------------------------------------------
_SECRET_FILTERS = ("searchtext", "searchfield", "searchfieldslug", "isexactmatch", "folderid", "includesubfolders",
                   "includeinactive", "secrettemplateid", "extendedfields", "donotcalculatetotal",
                   "includerestricted")
_SORTABLE: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
    "name": lambda s: str(s.get("name", "")).lower(),
    "id": lambda s: _id_key(s["id"]),
    "secrettemplatename": lambda s: str(s.get("type", "")).lower(),
    "secrettemplateid": lambda s: int(s.get("secretTemplateId") or 0),
    "folderid": lambda s: _id_key(owner.ref_value(s, "container") or ""),
    "active": lambda s: s.get("active", True) is not False,
}


def _id_key(value: Any) -> tuple[int, str]:
    text = str(value)
    return (int(text), "") if text.isascii() and text.isdigit() else (-1, text)


def _canonical(pairs: Iterable[tuple[str, str]], known: Sequence[str]) -> dict[str, list[str]]:
    """Query pairs by canonical lower-case name: the ``paging.`` prefix dropped (the Go SDK and External Secrets
    Operator send it), names compared case-insensitively as Secret Server's binder does, empty names (``&&``) and
    empty values dropped. A ``filter.*`` or ``sortBy[n].*`` this emulator does not honour → :class:`Invalid`."""
    out: dict[str, list[str]] = {}
    for raw, value in pairs:
        name = raw.strip()
        low = name.lower().removeprefix("paging.")
        if not low or value == "":
            continue
        if low.startswith("filter.") and low.removeprefix("filter.") not in known:
            raise Invalid(f"The search parameter '{name}' is not supported by mockscim.")
        if low.startswith("sortby[") and low not in ("sortby[0].name", "sortby[0].direction"):
            raise Invalid(f"The search parameter '{name}' is not supported by mockscim.")
        out.setdefault(low, []).append(value)
    return out


@dataclass(frozen=True, slots=True)
class SecretQuery:
    """A parsed secrets search (``GET /secrets``, ``/secrets/search-total``)."""

    skip: int = 0
    take: int = 10
    text: str = ""
    search_field: str = ""
    exact: bool = False
    folder_id: str | None = None
    sub_folders: bool = False
    inactive: bool = False
    template_id: int | None = None
    extended: tuple[str, ...] = ()
    no_total: bool = False
    sort: str = "name"
    descending: bool = False

    def run(self, store: Store, access: Access) -> list[Mapping[str, Any]]:
        """The secrets this query finds that the caller may list, sorted (then by id, so pages are stable)."""
        candidates: Iterable[Mapping[str, Any]]
        if self.folder_id is not None:
            folders = owner.subtree(store, [self.folder_id]) if self.sub_folders else {self.folder_id}
            candidates = [s for f in folders for s in store.lookup("PrivilegedData", "container.value", f)]
        elif self.text and self.exact and not self.search_field:
            candidates = store.lookup("PrivilegedData", "name", self.text)
        elif self.text and not self.search_field:
            # A name search tests the name index's keys (lower-cased, as _matches compares) and unpacks only the
            # secrets that match: 2,000 secrets, 5.5 → 0.2 ms CPU for a selective text (docs/performance.md).
            want = self.text.lower()
            ids = store.ids_where("PrivilegedData", "name", lambda name: want in name)
            candidates = [d for i in ids if (d := store.get("PrivilegedData", i)) is not None]
        else:
            candidates = store.all("PrivilegedData")
        found = [s for s in candidates if self._matches(s) and access.can_list_secret(s)]
        key = _SORTABLE[self.sort]
        found.sort(key=lambda s: _id_key(s["id"]))
        found.sort(key=key, reverse=self.descending)
        return found

    def _matches(self, secret: Mapping[str, Any]) -> bool:
        if not self.inactive and secret.get("active", True) is False:
            return False
        if self.template_id is not None and secret.get("secretTemplateId") != self.template_id:
            return False
        if not self.text:
            return True
        if self.search_field:
            value = _field_value(secret, self.search_field)
            if value is None:
                return False
        else:
            value = str(secret.get("name", ""))
        want = self.text.lower()
        return value.lower() == want if self.exact else want in value.lower()

    def extended_values(self, secret: Mapping[str, Any]) -> dict[str, str] | None:
        """``extendedValues`` of a record: each requested field's value, by the name the request used."""
        if not self.extended:
            return None
        out = {}
        for name in self.extended:
            value = _field_value(secret, name)
            if value is not None:
                out[name] = value
        return out


def _field_value(secret: Mapping[str, Any], name: str) -> str | None:
    """A field's text by slug or display name, case-insensitively (a file field: its filename)."""
    fields = sub_map(secret, "fields")
    low = name.lower()
    key = next((k for k in fields if str(k).lower() == low
                or str(k).replace("-", " ").lower() == low.replace("-", " ")), None)
    if key is None:
        return None
    value = fields[key]
    return str(value.get("filename", "")) if isinstance(value, Mapping) else str(value)


def _bool(params: Mapping[str, list[str]], name: str) -> bool:
    values = params.get(name)
    return values is not None and truthy(values[-1])


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _paging(params: Mapping[str, list[str]], default_take: int) -> tuple[int, int]:
    skip = _int(_one(params, "skip"), "skip")
    take = _int(_one(params, "take"), "take")
    if (skip is not None and skip < 0) or (take is not None and take < 0):
        raise Invalid("skip and take must be non-negative integers.")
    return skip or 0, min(default_take if take is None else take, 1000)


def secret_query(pairs: Iterable[tuple[str, str]], *, default_take: int = 10) -> SecretQuery:
    """Parse a secrets search's query string (docs/behaviour.md §9)."""
    params = _canonical(pairs, _SECRET_FILTERS)
    skip, take = _paging(params, default_take)
    folder = _int(_one(params, "filter.folderid"), "filter.folderId")
    template = _int(_one(params, "filter.secrettemplateid"), "filter.secretTemplateId")
    sort = (_one(params, "sortby[0].name") or "name").lower()
    if sort not in _SORTABLE:
        raise Invalid(f"sortBy[0].name '{sort}' is not supported by mockscim.")
    direction = (_one(params, "sortby[0].direction") or "asc").lower()
    if direction not in ("asc", "desc", "ascending", "descending", "none"):
        raise Invalid(f"sortBy[0].direction '{direction}' must be asc or desc.")
    fields = [*params.get("filter.searchfield", ()), *params.get("filter.searchfieldslug", ())]
    return SecretQuery(
        skip=skip, take=take, text=_one(params, "filter.searchtext") or "",
        search_field=fields[-1] if fields else "", exact=_bool(params, "filter.isexactmatch"),
        folder_id=None if folder is None or folder < 0 else str(folder),
        sub_folders=_bool(params, "filter.includesubfolders"), inactive=_bool(params, "filter.includeinactive"),
        template_id=template, extended=tuple(params.get("filter.extendedfields", [])),
        no_total=_bool(params, "filter.donotcalculatetotal"), sort=sort, descending=direction.startswith("desc"),
    )


_FOLDER_FILTERS = ("searchText", "parentFolderId", "limitToDirectDescendents")
_USER_FILTERS = ("searchText", "includeInactive")


def _filters_query(pairs: Iterable[tuple[str, str]], filters: Sequence[str], default_take: int
                   ) -> tuple[dict[str, str], int, int]:
    """A folder or user search's filters (by their ``filter.*`` spelling as :mod:`models` reads them), skip and
    take; an unsupported filter → :class:`Invalid` (docs/behaviour.md §9)."""
    params = _canonical(pairs, [f.lower() for f in filters])
    skip, take = _paging(params, default_take)
    names = {f"filter.{f.lower()}": f"filter.{f}" for f in filters}
    return {names[k]: v[-1] for k, v in params.items() if k in names}, skip, take


def folder_query(pairs: Iterable[tuple[str, str]], *, default_take: int = 10) -> tuple[dict[str, str], int, int]:
    """A folder search (``GET /folders``, ``/folders/lookup``): its filters, skip and take."""
    return _filters_query(pairs, _FOLDER_FILTERS, default_take)


def template_query(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], int, int]:
    """A template listing (``GET /secret-templates``): ``filter.searchText`` on the name, skip and take."""
    return _filters_query(pairs, ("searchText",), 1000)


def user_query(pairs: Iterable[tuple[str, str]], *, default_take: int = 10) -> tuple[dict[str, str], int, int]:
    """A user search (``GET /users``): its filters, skip and take."""
    return _filters_query(pairs, _USER_FILTERS, default_take)


# -- passwords and keys ----------------------------------------------------------------------------------------
_SYMBOLS = "!@#$%^&*()-_=+[]{}:,.?"


def generate_password(length: int = 20) -> str:
    """[C] A fresh random password: ``length`` characters with upper, lower, digits and symbols (docs/behaviour.md
    §9)."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, _SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(c) for c in classes] + [secrets.choice(alphabet) for _ in range(length - len(classes))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def ssh_key_pair(passphrase: str | None) -> tuple[str, str]:
    """An OpenSSH RSA key pair (private key in OpenSSH format, encrypted with ``passphrase`` when given; public key
    ``ssh-rsa AAAA… mockscim``) from the ``cryptography`` library (docs/behaviour.md §9 ``sshKeyArgs``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # [C] 8 bcrypt rounds (ssh-keygen uses 16): a test key need not resist offline guessing, and each round is
    # ~0.1 s of CPU; the count is in the key file, so any OpenSSH reads it (docs/behaviour.md §9).
    encryption: serialization.KeySerializationEncryption = (
        serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(8).build(passphrase.encode())
        if passphrase else serialization.NoEncryption())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private.decode(), public.decode() + " mockscim"


# -- reading (docs/behaviour.md §9: comment and check-out) -------------------------------------------------------
def check_read(secret: Mapping[str, Any], caller_id: str | None, checked_out: dict[str, str], *,
               comment: str | None, auto_check_out: bool) -> None:
    """Refuse reading a secret's items without the comment it requires, or without holding its check-out;
    ``autoCheckOut`` checks it out (``checked_out`` is updated)."""
    if secret.get("requiresComment") is True and not (comment or "").strip():
        raise CommentRequired("The requested Secret requires a comment when viewed.")
    if secret.get("checkOutEnabled") is not True:
        return
    sid = str(secret["id"])
    holder = checked_out.get(sid)
    if holder is not None and holder != caller_id:
        raise CheckedOutByOther("The secret is checked out by another user.")
    if holder is None:
        if not auto_check_out or caller_id is None:
            raise CheckOutRequired("The secret must be checked out before it can be viewed.")
        checked_out[sid] = caller_id


# -- writing (docs/behaviour.md §9) -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Upload:
    """A file for a file field: its bytes and filename."""

    filename: str
    content: bytes

    def stored(self) -> dict[str, str]:
        """The stored and exported form (docs/behaviour.md §13)."""
        return {"filename": self.filename, "base64": base64.b64encode(self.content).decode()}


def _templates(store: Store) -> list[Mapping[str, Any]]:
    return list(store.all(kinds.SECRET_TEMPLATES))


def _template_of(store: Store, body: Mapping[str, Any], current: Mapping[str, Any] | None) -> Mapping[str, Any]:
    tid = body.get("secrettemplateid")
    if current is not None and (tid is None or tid == 0):
        tid = current.get("secretTemplateId")
    number = _int(tid, "secretTemplateId")
    if number is None:
        raise Invalid("secretTemplateId is required.")
    template = template_by(_templates(store), tid=number)
    if template is None:
        raise Invalid(f"Secret template {number} not found.")
    return template


def _folder_of(store: Store, access: Access, body: Mapping[str, Any], rights: frozenset[str]) -> str:
    folder = _int(body.get("folderid"), "folderId")
    if folder is None or folder <= 0:
        raise Denied("Access Denied")  # [C] nobody holds rights on the root: a secret lives in a folder
    if store.get("Containers", str(folder)) is None:
        raise Invalid(f"Folder {folder} not found.")
    if not access.folder_rights(str(folder)) & rights:
        raise Denied("Access Denied")
    return str(folder)


def _name_of(body: Mapping[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name is required.")
    return name


def _flags(body: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {} if current is None else {k: current[k] for k in FLAGS if k in current}
    for key, kind in FLAGS.items():
        value = body.get(key.lower())
        if value is None:
            continue
        if kind is bool and not isinstance(value, bool):
            raise Invalid(f"{key} must be a boolean.")
        if kind is int:
            value = _int(value, key)
        out[key] = value
    return out


def _items(template: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """``items`` by template slug: ``fieldId`` (the Go SDK sends only that), else ``slug``, else ``fieldName``."""
    raw = body.get("items")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise Invalid("items must be a list.")
    out: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, Mapping):
            raise Invalid("items must be a list of objects.")
        found = field_by(template, fid=item.get("fieldid"), slug=item.get("slug") or item.get("fieldname"))
        if found is None:
            named = item.get("fieldid") or item.get("slug") or item.get("fieldname")
            raise Invalid(f"Field '{named}' is not on the secret template '{template['name']}'.")
        value = item.get("itemvalue")
        slug = str(found["fieldSlugName"])
        if found["isFile"]:
            if value:  # [C] a file sent inline: its text, named by the item's filename or the slug
                out[slug] = Upload(str(item.get("filename") or slug), str(value).encode()).stored()
            continue
        out[slug] = "" if value is None else str(value)
    return out


def _require(template: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
    for f in template["fields"]:
        slug = str(f["fieldSlugName"])
        if f["isRequired"] and not f["isFile"] and not str(fields.get(slug) or "").strip():
            raise Invalid(f"The field '{f['displayName']}' ({slug}) is required.")


@dataclass(frozen=True, slots=True)
class KeyPair:
    """Generated key material for ``sshKeyArgs``: the private and public key, and the passphrase if any."""

    private: str
    public: str
    passphrase: str | None


def keys_for(body: Any) -> KeyPair | None:
    """The key pair a create body's ``sshKeyArgs`` asks for (slow: callers run it off the event loop), else
    ``None``."""
    args = body.get("sshkeyargs") if isinstance(body, Mapping) else None
    if not isinstance(args, Mapping) or args.get("generatesshkeys") is not True:
        return None
    passphrase = generate_password() if args.get("generatepassphrase") is True else None
    private, public = ssh_key_pair(passphrase)
    return KeyPair(private, public, passphrase)


def _ssh_keys(template: Mapping[str, Any], keys: KeyPair | None, fields: dict[str, Any]) -> None:
    if keys is None:
        return
    slugs = {str(f["fieldSlugName"]) for f in template["fields"]}
    if not {"private-key", "public-key"} <= slugs:
        raise Invalid(f"sshKeyArgs: the secret template '{template['name']}' has no key fields.")
    if keys.passphrase is not None and "private-key-passphrase" in slugs:
        fields["private-key-passphrase"] = keys.passphrase
    fields["private-key"] = Upload("private-key.pem", keys.private.encode()).stored()
    fields["public-key"] = Upload("public-key.pub", keys.public.encode()).stored()


def create_secret(store: Store, access: Access, body: Any, keys: KeyPair | None = None) -> list[Change]:
    """``POST /secrets``: the new secret and its creator's Owner permission, or a refusal (docs/behaviour.md §9).
    ``active``, ``id`` and ``checkedOut`` in the body are ignored (the Go SDK sends every key)."""
    if not isinstance(body, Mapping):
        raise Invalid("The request body must be a SecretModel object.")
    template = _template_of(store, body, None)
    name = _name_of(body)
    fields = _items(template, body)
    _require(template, fields)
    folder = _folder_of(store, access, body, ADD_RIGHTS)
    _ssh_keys(template, keys, fields)
    site = _int(body.get("siteid"), "siteId")
    doc: dict[str, Any] = {
        "id": store.next_id("PrivilegedData"), "name": name, "type": template["name"],
        "secretTemplateId": template["id"], "container": {"value": folder}, "active": True, "fields": fields,
        "siteId": 1 if not site else site, **_flags(body, None),
    }
    changes: list[Change] = [Put("PrivilegedData", doc)]
    if access.user_id is not None:
        # docs/behaviour.md §9 [C]: the creator also gets an Owner PrivilegedDataPermission.
        grant = {"id": store.next_id("PrivilegedDataPermissions"), "privilegedData": {"value": doc["id"]},
                 "user": {"value": access.user_id}, "rights": [owner.OWNER]}
        changes.append(Put("PrivilegedDataPermissions", grant))
    return changes


def editable(store: Store, access: Access, sid: str) -> Mapping[str, Any]:
    """The secret ``sid`` if the caller may change it (Edit or Owner), else :class:`Denied`."""
    secret = store.get("PrivilegedData", sid)
    if secret is None or not access.secret_rights(sid) & EDIT_RIGHTS:
        raise Denied("Access Denied")
    return secret


def update_secret(store: Store, access: Access, sid: str, body: Any) -> list[Change]:
    """``PUT /secrets/{id}``: name, folder, items and flags replaced; file fields absent from ``items`` keep their
    files (docs/behaviour.md §9)."""
    old = editable(store, access, sid)
    if not isinstance(body, Mapping):
        raise Invalid("The request body must be a SecretModel object.")
    template = _template_of(store, body, old)
    name = _name_of(body)
    given = _items(template, body)
    _require(template, given)
    folder = owner.ref_value(old, "container")
    if _int(body.get("folderid"), "folderId") not in (None, 0) and str(body.get("folderid")) != folder:
        folder = _folder_of(store, access, body, ADD_RIGHTS)
    files = {str(f["fieldSlugName"]) for f in template["fields"] if f["isFile"]}
    kept = {k: v for k, v in sub_map(old, "fields").items() if k in files and k not in given}
    site = _int(body.get("siteid"), "siteId")
    new: dict[str, Any] = {
        **{k: v for k, v in old.items() if k not in FLAGS},
        "name": name, "type": template["name"], "secretTemplateId": template["id"], "fields": {**given, **kept},
        "siteId": site or old.get("siteId", 1), **_flags(body, old),
    }
    if folder is None:
        new.pop("container", None)
    else:
        new["container"] = {"value": folder}
    return [Put("PrivilegedData", new, old)]


def _with_fields(old: Mapping[str, Any], fields: Mapping[str, Any]) -> list[Change]:
    return [Put("PrivilegedData", {**old, "fields": dict(fields)}, old)]


def _template_field(store: Store, secret: Mapping[str, Any], slug: str) -> tuple[str, bool]:
    """The stored key and file-ness of the field ``slug`` names on ``secret`` (template fields, then extras)."""
    template = template_by(_templates(store), tid=secret.get("secretTemplateId"), name=secret.get("type"))
    found = None if template is None else field_by(template, slug=slug)
    if found is not None:
        return str(found["fieldSlugName"]), bool(found["isFile"])
    key = next((k for k in sub_map(secret, "fields") if str(k).lower() == slug.lower()), None)
    if key is None:
        raise UnknownField(slug)
    return str(key), False


def patch_general(store: Store, access: Access, sid: str, body: Any) -> list[Change]:
    """``PATCH /secrets/{id}/general``: ``{"data": {"secretFields": [{"slug", "dirty", "value"}]}}``; a dirty field
    with ``value: null`` is cleared (docs/behaviour.md §9)."""
    old = editable(store, access, sid)
    data = sub_map(body, "data") if isinstance(body, Mapping) else {}
    entries = data.get("secretfields")
    if not isinstance(entries, list):
        raise Invalid("data.secretFields must be a list.")
    fields = dict(sub_map(old, "fields"))
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("slug"), str):
            raise Invalid("Each of data.secretFields needs a slug.")
        if entry.get("dirty") is not True:
            continue
        key, is_file = _template_field(store, old, entry["slug"])
        value = entry.get("value")
        if isinstance(value, Mapping):
            value = value.get("value")
        if value is None:
            fields.pop(key, None)
        elif is_file:
            fields[key] = Upload(key, str(value).encode()).stored()
        else:
            fields[key] = str(value)
    return _with_fields(old, fields)


def set_field(store: Store, access: Access, sid: str, slug: str, value: str | Upload) -> list[Change]:
    """``PUT /secrets/{id}/fields/{slug}``: a text value, or a file (docs/behaviour.md §9)."""
    old = editable(store, access, sid)
    key, is_file = _template_field(store, old, slug)
    fields = dict(sub_map(old, "fields"))
    if is_file:
        upload = value if isinstance(value, Upload) else Upload(key, value.encode())
        fields[key] = upload.stored()
    elif isinstance(value, Upload):
        try:
            fields[key] = value.content.decode()
        except UnicodeDecodeError:
            raise Invalid(f"Field '{slug}' is a text field: its value must be text.") from None
    else:
        fields[key] = value
    return _with_fields(old, fields)


def deactivate_secret(store: Store, access: Access, sid: str) -> list[Change]:
    """``DELETE /secrets/{id}`` (needs Owner): the secret stays, ``active: false`` (docs/behaviour.md §9)."""
    old = store.get("PrivilegedData", sid)
    if old is None or owner.OWNER not in access.secret_rights(sid):
        raise Denied("Access Denied")
    return [Put("PrivilegedData", {**old, "active": False}, old)]


# -- folders (docs/behaviour.md §9) -----------------------------------------------------------------------------
def parent_of(body: Any) -> str | None:
    """``parentFolderId`` of a folder create: ``None`` for the root (-1, 0 or absent)."""
    parent = _int(body.get("parentfolderid") if isinstance(body, Mapping) else None, "parentFolderId")
    return None if parent is None or parent <= 0 else str(parent)


def rename_folder(store: Store, access: Access, cid: str, body: Any) -> list[Change]:
    """``PUT /folders/{id}``: a new ``folderName`` (Owner or Edit), unique among its siblings."""
    old = store.get("Containers", cid)
    if old is None or not access.folder_rights(cid) & EDIT_RIGHTS:
        raise Denied("Access Denied")
    name = body.get("foldername") if isinstance(body, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise Invalid("folderName is required.")
    parent = owner.ref_value(old, "parent")
    for other in store.lookup("Containers", "name", name):
        if str(other["id"]) != cid and owner.ref_value(other, "parent") == parent:
            raise Invalid(f"A folder named '{name}' already exists in this folder.")
    new = {**old, "name": name}
    if old.get("displayName") in (None, old.get("name")):
        new["displayName"] = name
    return [Put("Containers", new, old)]


def delete_folder(store: Store, access: Access, cid: str) -> list[Change]:
    """``DELETE /folders/{id}`` (Owner): an empty folder goes with its permissions; one that still holds secrets
    (inactive ones too) or folders → :class:`FolderNotEmpty`."""
    old = store.get("Containers", cid)
    if old is None or owner.OWNER not in access.folder_rights(cid):
        raise Denied("Access Denied")
    if store.lookup_ids("PrivilegedData", "container.value", cid) or store.lookup_ids("Containers", "parent.value",
                                                                                      cid):
        raise FolderNotEmpty("The folder is not empty.")
    return [Delete("Containers", cid),
            *(Delete("ContainerPermissions", p) for p in store.lookup_ids("ContainerPermissions", "container.value",
                                                                          cid))]
