"""The state format (docs/behaviour.md §13): validate a whole state and bring it to stored form, or name the entry."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Any

from mockscim import kinds
from mockscim.auth.passwords import hash_password
from mockscim.kinds.templates import SECRET_FLAGS, shipped_templates, template_by
from mockscim.scim.errors import ScimError
from mockscim.scim.profile import Profile, load_profile
from mockscim.scim.schema import Attribute, ResourceType
from mockscim.scim.validate import coerce, schemas_of
from mockscim.store import KINDS
from mockscim.util.timefmt import iso_utc

_EXTRA_KEYS: Mapping[str, frozenset[str]] = {
    "Users": frozenset({"password", "passwordHash"}),
    # docs/behaviour.md §13: a secret's fields, template, site and flags
    "PrivilegedData": frozenset({"fields", "secretTemplateId", "siteId", *SECRET_FLAGS}),
}
_TEMPLATE_FIELD_DEFAULTS: Mapping[str, Any] = {
    "displayName": None, "name": None, "description": "", "isFile": False, "isList": False, "listType": "None",
    "isNotes": False, "isPassword": False, "isRequired": False, "isUrl": False}
_INTEGER_IDS = frozenset(k.name for k in kinds.ALL if k.integer_ids)


class StateError(ValueError):
    """A state that does not load; the message names the entry (``Users[3] (id "u1"): …``)."""


class _Bad(ValueError):
    """What is wrong with one entry, before the entry's label is put in front of it (:class:`StateError`)."""


def _label(kind: str, i: int, entry: Any) -> str:
    """How an error names an entry: ``Users[3] (id 'u1')``."""
    return f"{kind}[{i}]" + (f" (id {entry['id']!r})" if isinstance(entry, Mapping) and "id" in entry else "")


def normalise_state(raw: Any, profile: Profile, *, now: str) -> dict[str, list[dict[str, Any]]]:
    """Validate ``raw`` as a whole and return it in stored form; nothing is half-loaded (docs/behaviour.md §13)."""

    if not isinstance(raw, Mapping):
        raise StateError("a state is a JSON object with the lists serviceUsers, Users, Groups, Containers, "
                         "ContainerPermissions, PrivilegedData, PrivilegedDataPermissions")
    unknown = sorted(set(raw) - set(KINDS))
    if unknown:
        raise StateError(f"unknown key {unknown[0]!r} (expected {', '.join(KINDS)})")
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        if kind == kinds.SECRET_TEMPLATES:
            out[kind] = _templates(raw[kind]) if kind in raw else shipped_templates()
            continue
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            raise StateError(f"{kind}: must be a list")
        out[kind] = []
        ids: set[str] = set()
        plans: dict[str, _Plan] = {}
        rtype = None if kind == kinds.SERVICE_USERS else profile.all_types[kind]
        for i, entry in enumerate(entries):
            # The label (the entry's index and id) is only built for an error: most states have none.
            if type(entry) is not dict and not isinstance(entry, Mapping):
                raise StateError(f"{_label(kind, i, entry)}: must be an object")
            try:
                if rtype is None:
                    doc = _service_user(entry)
                else:
                    doc = _entry(rtype, entry, kind, now, i, plans)
                    if kind == "Users" and ("password" in doc or "passwordHash" in doc):
                        _check_password_keys(doc)
                        if "password" in doc:
                            doc["passwordHash"] = hash_password(str(doc.pop("password")))
            except _Bad as exc:
                raise StateError(f"{_label(kind, i, entry)}: {exc}") from None
            key = str(doc["userName"] if rtype is None else doc["id"]).lower()
            if key in ids:
                raise StateError(f"{_label(kind, i, entry)}: duplicate {'userName' if rtype is None else 'id'}")
            ids.add(key)
            out[kind].append(doc)
    _check_references(out, profile)
    return out


def _templates(entries: Any) -> list[dict[str, Any]]:
    """``SecretTemplates`` (docs/behaviour.md §9, §13): integer ids, unique names, field ids unique across templates."""
    if not isinstance(entries, list):
        raise StateError(f"{kinds.SECRET_TEMPLATES}: must be a list")
    out: list[dict[str, Any]] = []
    ids: set[int] = set()
    names: set[str] = set()
    field_ids: set[int] = set()
    for i, entry in enumerate(entries):
        label = f"{kinds.SECRET_TEMPLATES}[{i}]" + (f" (id {entry['id']!r})" if isinstance(entry, Mapping)
                                                    and "id" in entry else "")
        if not isinstance(entry, Mapping):
            raise StateError(f"{label}: must be an object")
        extra = sorted(set(entry) - {"id", "name", "fields"})
        if extra:
            raise StateError(f"{label}: unknown key {extra[0]!r}")
        tid, name, fields = entry.get("id"), entry.get("name"), entry.get("fields")
        if not isinstance(tid, int) or isinstance(tid, bool) or tid <= 0 or tid in ids:
            raise StateError(f"{label}: 'id' must be a positive integer, unique among the templates")
        if not isinstance(name, str) or not name or name.lower() in names:
            raise StateError(f"{label}: 'name' must be a non-empty string, unique among the templates")
        if not isinstance(fields, list):
            raise StateError(f"{label}: 'fields' must be a list")
        ids.add(tid)
        names.add(name.lower())
        slugs: set[str] = set()
        clean = []
        for j, f in enumerate(fields):
            where = f"{label}: fields[{j}]"
            if not isinstance(f, Mapping):
                raise StateError(f"{where} must be an object")
            unknown = sorted(set(f) - {"secretTemplateFieldId", "fieldSlugName", *_TEMPLATE_FIELD_DEFAULTS})
            if unknown:
                raise StateError(f"{where}: unknown key {unknown[0]!r}")
            fid, slug = f.get("secretTemplateFieldId"), f.get("fieldSlugName")
            if not isinstance(fid, int) or isinstance(fid, bool) or fid <= 0 or fid in field_ids:
                raise StateError(f"{where}: 'secretTemplateFieldId' must be a positive integer, unique across "
                                 "templates")
            if not isinstance(slug, str) or not slug or slug.lower() in slugs:
                raise StateError(f"{where}: 'fieldSlugName' must be a non-empty string, unique in the template")
            field_ids.add(fid)
            slugs.add(slug.lower())
            doc = {"secretTemplateFieldId": fid, "fieldSlugName": slug,
                   **{k: f.get(k, v) for k, v in _TEMPLATE_FIELD_DEFAULTS.items()}}
            for key, value in doc.items():
                if key.startswith("is") and not isinstance(value, bool):
                    raise StateError(f"{where}: {key!r} must be a boolean")
            doc["name"] = doc["name"] or slug
            doc["displayName"] = doc["displayName"] or doc["name"]
            clean.append(doc)
        out.append({"id": tid, "name": name, "fields": clean})
    return out


def _secret(label: str, s: dict[str, Any], templates: list[dict[str, Any]]) -> None:
    """A secret's template, fields and flags (docs/behaviour.md §13): resolved and checked, ``type`` and
    ``secretTemplateId`` both set."""
    tid = s.get("secretTemplateId")
    template = template_by(templates, tid=tid, name=s.get("type") or "Password")
    if template is None:
        named = f"secretTemplateId {tid!r}" if tid is not None else f"type {s.get('type')!r}"
        raise StateError(f"{label}: {named} names no existing {kinds.SECRET_TEMPLATES} entry")
    s["secretTemplateId"], s["type"] = template["id"], template["name"]
    files = {str(f["fieldSlugName"]) for f in template["fields"] if f["isFile"]}
    fields = s.get("fields", {})
    if not isinstance(fields, Mapping):
        raise StateError(f"{label}: 'fields' must map names to strings")
    for slug, value in fields.items():
        if isinstance(value, Mapping) and slug in files:
            if set(value) != {"filename", "base64"} or not all(isinstance(v, str) for v in value.values()):
                raise StateError(f"{label}: file field {slug!r} must be {{\"filename\", \"base64\"}}")
            try:
                base64.b64decode(value["base64"], validate=True)
            except binascii.Error:
                raise StateError(f"{label}: file field {slug!r}: 'base64' is not base64") from None
        elif not isinstance(value, str):
            raise StateError(f"{label}: 'fields' must map names to strings (file fields to "
                             "{\"filename\", \"base64\"})")
    for flag, kind in SECRET_FLAGS.items():
        if flag in s and (not isinstance(s[flag], kind) or (kind is int and isinstance(s[flag], bool))):
            raise StateError(f"{label}: {flag!r} must be {'a boolean' if kind is bool else 'an integer'}")
    if "siteId" in s and (not isinstance(s["siteId"], int) or isinstance(s["siteId"], bool)):
        raise StateError(f"{label}: 'siteId' must be an integer")
def _check_password_keys(doc: Mapping[str, Any]) -> None:
    """docs/behaviour.md §13: ``password`` is clear text, ``passwordHash`` as exported (``sha256$salt$digest``)."""
    if "password" in doc and not isinstance(doc["password"], str):
        raise _Bad("'password' must be a string")
    stored = doc.get("passwordHash")
    if "passwordHash" in doc and not (isinstance(stored, str) and stored.count("$") == 2):
        raise _Bad("'passwordHash' must be a string as exported (sha256$<salt>$<digest>)")


def _service_user(entry: Mapping[str, Any]) -> dict[str, Any]:
    extra = sorted(set(entry) - {"userName", "clientSecret"})
    if extra:
        raise _Bad(f"unknown key {extra[0]!r}")
    for key in ("userName", "clientSecret"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise _Bad(f"{key!r} must be a non-empty string")
    return dict(entry)


_SKIP, _ID, _META, _EXTRA, _EXT, _ATTR = range(6)
_Plan = tuple[int, Any]


def _plan(rtype: ResourceType, kind: str, key: str) -> _Plan:
    """What ``_entry`` does with a top-level ``key`` of ``kind``: decided once per spelling of a key per load, not per
    entry (a 100k-user fixture repeats the same dozen keys)."""
    if key == "schemas":
        return _SKIP, None
    if key in ("id", "meta"):
        return (_ID if key == "id" else _META), None
    if key in _EXTRA_KEYS.get(kind, ()):
        return _EXTRA, None
    ext = rtype.ext(key) if key.startswith("urn:") else None
    if ext is not None:
        return _EXT, ext
    attr = _known(rtype.attr(key), key)
    if (kind == "Containers" and attr.name == "privilegedData") or attr.name == "groups":
        return _SKIP, None  # derived: from the secrets' container, from group membership (docs/behaviour.md §3)
    return _ATTR, attr


def _entry(rtype: ResourceType, entry: Mapping[str, Any], kind: str, now: str, i: int,
           plans: dict[str, _Plan]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in entry.items():
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _plan(rtype, kind, key)
        what, attr = plan
        if what == _ATTR:
            if type(value) is attr.plain_type:
                doc[attr.name] = value  # already its stored form (a string, a boolean): the common case
                continue
            coerced = _coerce(attr, value)
            if coerced is not None:
                doc[attr.name] = coerced
        elif what == _ID:
            if not isinstance(value, str | int):
                raise _Bad("'id' must be a string")
            doc[key] = str(value)
        elif what == _META or what == _EXTRA:
            doc[key] = value
        elif what == _EXT:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise _Bad(f"{key!r} must be an object")
            ext_doc = {}
            for k, v in value.items():
                sub = _known(attr.attr(k), k)
                ext_doc[sub.name] = v if type(v) is sub.plain_type else _coerce(sub, v)
            doc[attr.id] = ext_doc
    if "id" not in doc:
        doc["id"] = str(i + 1) if kind in _INTEGER_IDS else str(uuid.uuid4())
    elif kind in _INTEGER_IDS and not (doc["id"].isascii() and doc["id"].isdigit()):
        raise _Bad("Secret Server ids are integers rendered as strings")
    if kind in ("Users", "Groups", "Containers"):
        for name in _required(rtype):
            value = doc.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):  # blank, as the API's `required`
                raise _Bad(f"{name!r} is required")
    given = doc.get("meta")
    meta: Mapping[str, Any] = given if type(given) is dict or isinstance(given, Mapping) else {}
    doc["meta"] = {"resourceType": rtype.name, "created": meta.get("created", now),
                   "lastModified": meta.get("lastModified", now), "version": meta.get("version", 'W/"1"')}
    doc["schemas"] = schemas_of(rtype, doc)
    if kind == "Containers" and "displayName" not in doc:
        doc["displayName"] = doc["name"]
    return doc


def _required(rtype: ResourceType) -> tuple[str, ...]:
    """The names of the core schema's required attributes, in schema order (computed once per type)."""
    found: tuple[str, ...] | None = rtype.memo.get(_REQUIRED)
    if found is None:
        found = rtype.memo[_REQUIRED] = tuple(a.name for a in rtype.schema.attributes if a.required)
    return found


_REQUIRED = ("state", "required")


def _known(attr: Attribute | None, key: str) -> Attribute:
    if attr is None:
        raise _Bad(f"unknown key {key!r}")
    return attr


def _coerce(attr: Attribute, value: Any) -> Any:
    try:
        return coerce(attr, value, attr.name)
    except ScimError as exc:
        raise _Bad(exc.detail) from None


def _check_references(state: dict[str, list[dict[str, Any]]], profile: Profile) -> None:
    """Every reference resolves; unique values are unique (case-insensitively where docs/behaviour.md §3 says so)."""
    ids = {kind: {d["id"] for d in docs} for kind, docs in state.items()
           if kind not in (kinds.SERVICE_USERS, kinds.SECRET_TEMPLATES)}
    names = {d["userName"].lower() for d in state["Users"]}

    def need(label: str, doc: Mapping[str, Any], attr: str, target: str) -> None:
        ref = doc.get(attr)
        if ref is not None and (not isinstance(ref, Mapping) or ref.get("value") not in ids[target]):
            raise StateError(f"{label}: {attr!r} names no existing {target} entry")

    def unique(kind: str, key: Any, what: str) -> None:
        seen: set[Any] = set()
        for i, doc in enumerate(state[kind]):
            value = key(doc)
            if value is None:
                continue
            if value in seen:
                raise StateError(f"{kind}[{i}] (id {doc['id']!r}): duplicate {what}")
            seen.add(value)

    for i, su in enumerate(state["serviceUsers"]):
        if su["userName"].lower() not in names:
            raise StateError(f"serviceUsers[{i}]: no User has userName {su['userName']!r}")
    unique("Users", lambda d: d["userName"].lower(), "userName")
    if "Groups.displayName" in profile.unique:
        unique("Groups", lambda d: d["displayName"].lower(), "displayName")
    unique("Containers", lambda d: ((d.get("parent") or {}).get("value"), d["name"].lower()), "name in its parent")
    for i, g in enumerate(state["Groups"]):
        for m in g.get("members", []):
            if m.get("value") not in ids["Users"]:
                raise StateError(f"Groups[{i}] (id {g['id']!r}): 'members' names no existing Users entry")
    for i, c in enumerate(state["Containers"]):
        label = f"Containers[{i}] (id {c['id']!r})"
        need(label, c, "parent", "Containers")
        need(label, c, "owner", "Users")
    _no_cycles(state["Containers"])
    for kind, target, attr in (("ContainerPermissions", "Containers", "container"),
                               ("PrivilegedDataPermissions", "PrivilegedData", "privilegedData")):
        for i, p in enumerate(state[kind]):
            label = f"{kind}[{i}] (id {p['id']!r})"
            need(label, p, attr, target)
            need(label, p, "user", "Users")
            need(label, p, "group", "Groups")
            if attr not in p or ("user" in p) == ("group" in p) or not p.get("rights"):
                raise StateError(f"{label}: needs {attr!r}, exactly one of 'user'/'group', and 'rights'")
        unique(kind, lambda p, a=attr: (p[a]["value"], "u" if "user" in p else "g",
                                        (p.get("user") or p.get("group") or {}).get("value")), "permission")
    for i, s in enumerate(state["PrivilegedData"]):
        need(f"PrivilegedData[{i}] (id {s['id']!r})", s, "container", "Containers")
        _secret(f"PrivilegedData[{i}] (id {s['id']!r})", s, state[kinds.SECRET_TEMPLATES])


def _no_cycles(containers: list[dict[str, Any]]) -> None:
    parent = {c["id"]: (c.get("parent") or {}).get("value") for c in containers}
    for start in parent:
        seen, node = set(), start
        while node is not None:
            if node in seen:
                raise StateError(f"Containers (id {start!r}): 'parent' forms a cycle")
            seen.add(node)
            node = parent.get(node)


def check_stored_state(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """A durable store's tables checked as a state and brought to stored form (docs/behaviour.md §13).

    Checked under the lenient shipped profile (``rfc``): the file must be a state, whichever profile the server
    then serves. ``schemas`` stay as stored: the core derives them under the serving profile.
    """
    checked = normalise_state(tables, load_profile("rfc"), now=iso_utc())
    for kind in kinds.ALL:
        for doc, given in zip(checked[kind.name], tables.get(kind.name, []), strict=True):
            if isinstance(given.get("schemas"), list):
                doc["schemas"] = given["schemas"]
    return checked
