"""The state format (docs/behaviour.md §13): validate a whole state and bring it to stored form, or name the entry."""

from __future__ import annotations

import base64
import binascii
import itertools
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

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

    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    read_state(raw, StateReader(profile, now, lambda kind: out[kind].extend))
    return out


def read_state(raw: Any, reader: StateReader) -> None:
    """Read a parsed state (a JSON object of lists) through ``reader``, to its :meth:`StateReader.finish`."""
    if not isinstance(raw, Mapping):
        raise StateError("a state is a JSON object with the lists serviceUsers, Users, Groups, Containers, "
                         "ContainerPermissions, PrivilegedData, PrivilegedDataPermissions")
    unknown = sorted(set(raw) - set(KINDS))
    if unknown:
        raise StateError(f"unknown key {unknown[0]!r} (expected {', '.join(KINDS)})")
    for kind in KINDS:
        if kind in raw:
            if not isinstance(raw[kind], list):
                raise StateError(f"{kind}: must be a list")
            reader.read(kind, raw[kind])
    reader.finish()


class StateReader:
    """A state read kind by kind, entry by entry, each entry handed to its ``sink`` in stored form as soon as it is
    checked (docs/behaviour.md §13), so a caller can store it before the next one is even parsed
    (docs/store.md "Loading a fixture").

    Kinds come in state-file order (``KINDS``), each at most once. A check that spans entries runs as soon as what
    it needs has been read: a group's members once the users are, a container's parent at :meth:`finish`. Secrets
    are kept at :meth:`finish`, once the templates they name are known. The first error raises
    :class:`StateError`; what was kept by then is the caller's to drop, as a state loads whole or not at all.
    """

    def __init__(self, profile: Profile, now: str, sink: Callable[[str], Callable[[list[dict[str, Any]]], None]], *,
                 owned: bool = False) -> None:
        """``sink(kind)``: where the documents of ``kind`` go, a list at a time (called once per kind). ``owned``:
        the entries were parsed for this read alone, and become the documents kept (changed in place, not copied)."""
        self.profile, self.now, self.sink, self.owned = profile, now, sink, owned
        self._last = -1
        self._ids: dict[str, set[str]] = {kind: set() for kind in KINDS}  # as given: what references name
        self._user_names: set[str] = set()
        self._service_users: list[str] = []
        self._parents: dict[str, str | None] = {}
        self._parent_refs: list[tuple[int, dict[str, Any]]] = []
        self._group_names: set[str] = set()
        self._container_names: set[tuple[Any, str]] = set()
        self._secrets: list[dict[str, Any]] = []
        self._templates: list[dict[str, Any]] | None = None
        self._shapes: dict[tuple[str, ...], _Shape | None] = {}

    def read(self, kind: str, entries: Iterable[Any]) -> None:
        """Normalise and check every entry of ``kind`` (a list, or elements as they are parsed)."""
        if kind not in KINDS:
            raise StateError(f"unknown key {kind!r} (expected {', '.join(KINDS)})")
        if KINDS.index(kind) <= self._last:
            raise StateError(f"{kind}: given twice, or after a kind the state file lists after it")
        self._last = KINDS.index(kind)
        if kind == kinds.SECRET_TEMPLATES:
            self._templates = _templates(list(entries))
            return
        keys: set[str] = set()
        plans: dict[str, _Plan] = {}
        rtype = None if kind == kinds.SERVICE_USERS else self.profile.all_types[kind]
        note = self._note(kind)
        ids = self._ids[kind]
        now = self.now
        # Secrets wait for the templates they name (at finish); every other document goes straight on.
        keep = self._secrets.extend if kind == "PrivilegedData" else self.sink(kind)

        def one(i: int, entry: Any) -> dict[str, Any]:
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
            given = str(doc["userName"] if rtype is None else doc["id"])
            key = _folded(given)
            if key in keys:
                raise StateError(f"{_label(kind, i, entry)}: duplicate {'userName' if rtype is None else 'id'}")
            keys.add(key)
            if rtype is not None:
                ids.add(given)
            if note is not None:
                note(i, doc)
            return doc

        if self.owned and kind == "Users":
            start = 0
            for batch in _batches(entries, _BATCH):
                docs = self._plain_users(batch, plans, keys)
                keep(docs if docs is not None else [one(start + j, entry) for j, entry in enumerate(batch)])
                start += len(batch)
        else:
            for i, entry in enumerate(entries):
                keep([one(i, entry)])

    def _plain_users(self, batch: list[Any], plans: dict[str, _Plan], keys: set[str]) -> list[dict[str, Any]] | None:
        """``batch`` as documents when every entry is already its stored form but for ``meta`` and ``schemas`` (what
        a seeded or exported fixture holds), checked a column at a time at C speed; ``None`` for anything else, which
        is then read entry by entry. What this accepts, ``_entry`` and the checks in ``read`` give the same for.
        Nothing is changed unless the whole batch is accepted."""
        rtype = self.profile.all_types["Users"]
        if not _DICT.issuperset(map(type, batch)):
            return None
        shapes = list(map(tuple, batch))
        distinct = set(shapes)
        groups: list[tuple[_Shape, list[dict[str, Any]]]] = []
        for shape in distinct:  # seeded users come in a few shapes (with an extension or without)
            if shape not in self._shapes:
                self._shapes[shape] = _shape(rtype, shape, plans)
            plan = self._shapes[shape]
            entries = batch if len(distinct) == 1 else [e for e, s in zip(batch, shapes, strict=True) if s == shape]
            if plan is None or not _plain_columns(plan, entries):
                return None
            groups.append((plan, entries))
        get, repeat = dict.get, itertools.repeat
        given: list[Any] = list(map(get, batch, repeat("id")))
        folded = list(map(_folded, given))
        user_names: list[Any] = list(map(get, batch, repeat("userName")))
        names = list(map(_folded, user_names))
        if not (len(set(folded)) == len(folded) and keys.isdisjoint(folded)
                and len(set(names)) == len(names) and self._user_names.isdisjoint(names)):
            return None
        keys.update(folded)
        self._ids["Users"].update(given)
        self._user_names.update(names)
        # Completed in place, a key at a time over the batch; the entries of one shape share their new ``meta`` and
        # ``schemas`` values (the store packs each document: nothing keeps them as objects).
        now, put = self.now, dict.__setitem__
        meta = {"resourceType": rtype.name, "created": now, "lastModified": now, "version": 'W/"1"'}
        for plan, entries in groups:
            for key in plan.dropped:
                deque(map(dict.pop, entries, repeat(key)), maxlen=0)
            deque(map(put, entries, repeat("meta"), repeat(meta)), maxlen=0)
            deque(map(put, entries, repeat("schemas"), repeat(list(plan.schemas))), maxlen=0)
        return batch

    def finish(self) -> None:
        """The checks that wait for later kinds, then the secrets (and the templates) kept."""
        for i, name in enumerate(self._service_users):
            if name.lower() not in self._user_names:
                raise StateError(f"serviceUsers[{i}]: no User has userName {name!r}")
        for i, c in self._parent_refs:
            self._need(f"Containers[{i}] (id {c['id']!r})", c, "parent", "Containers")
        _no_cycles(self._parents)
        templates = shipped_templates() if self._templates is None else self._templates
        for i, s in enumerate(self._secrets):
            _secret(f"PrivilegedData[{i}] (id {s['id']!r})", s, templates)
        self.sink("PrivilegedData")(self._secrets)
        self.sink(kinds.SECRET_TEMPLATES)(templates)

    # -- the checks that span entries (unique values, references), kind by kind ------------------------------------
    def _note(self, kind: str) -> Callable[[int, dict[str, Any]], None] | None:
        """What ``read`` checks of each document of ``kind`` against the others before keeping it (``None``:
        nothing)."""
        if kind == kinds.SERVICE_USERS:
            return self._on_service_user
        if kind == "Users":
            return self._on_user
        if kind == "Groups":
            return self._on_group
        if kind == "Containers":
            return self._on_container
        if kind == "PrivilegedData":
            return self._on_secret
        if kind in _PERMISSIONS:
            return self._on_permission(kind)
        return None

    def _need(self, label: str, doc: Mapping[str, Any], attr: str, target: str) -> None:
        ref = doc.get(attr)
        if ref is not None and (not isinstance(ref, Mapping) or ref.get("value") not in self._ids[target]):
            raise StateError(f"{label}: {attr!r} names no existing {target} entry")

    def _on_service_user(self, i: int, doc: dict[str, Any]) -> None:
        self._service_users.append(doc["userName"])

    def _on_user(self, i: int, doc: dict[str, Any]) -> None:
        name = _folded(doc["userName"])
        if name in self._user_names:
            raise StateError(f"Users[{i}] (id {doc['id']!r}): duplicate userName")
        self._user_names.add(name)

    def _on_group(self, i: int, doc: dict[str, Any]) -> None:
        if "Groups.displayName" in self.profile.unique:
            name = _folded(doc["displayName"])
            names = self._group_names
            if name in names:
                raise StateError(f"Groups[{i}] (id {doc['id']!r}): duplicate displayName")
            names.add(name)
        members = doc.get("members", [])  # dicts (coerced): every member's value looked up at C speed
        if not self._ids["Users"].issuperset(map(dict.get, members, itertools.repeat("value"))):
            raise StateError(f"Groups[{i}] (id {doc['id']!r}): 'members' names no existing Users entry")

    def _on_container(self, i: int, doc: dict[str, Any]) -> None:
        parent = (doc.get("parent") or {}).get("value")
        names = self._container_names
        name = (parent, doc["name"].lower())
        if name in names:
            raise StateError(f"Containers[{i}] (id {doc['id']!r}): duplicate name in its parent")
        names.add(name)
        self._need(f"Containers[{i}] (id {doc['id']!r})", doc, "owner", "Users")
        self._parents[doc["id"]] = parent
        if "parent" in doc:
            self._parent_refs.append((i, doc))

    def _on_secret(self, i: int, doc: dict[str, Any]) -> None:
        self._need(f"PrivilegedData[{i}] (id {doc['id']!r})", doc, "container", "Containers")

    def _on_permission(self, kind: str) -> Callable[[int, dict[str, Any]], None]:
        target, attr = _PERMISSIONS[kind]
        seen: set[tuple[Any, str, Any]] = set()

        def note(i: int, p: dict[str, Any]) -> None:
            label = f"{kind}[{i}] (id {p['id']!r})"
            self._need(label, p, attr, target)
            self._need(label, p, "user", "Users")
            self._need(label, p, "group", "Groups")
            if attr not in p or ("user" in p) == ("group" in p) or not p.get("rights"):
                raise StateError(f"{label}: needs {attr!r}, exactly one of 'user'/'group', and 'rights'")
            key = (p[attr]["value"], "u" if "user" in p else "g", (p.get("user") or p.get("group") or {}).get("value"))
            if key in seen:
                raise StateError(f"{label}: duplicate permission")
            seen.add(key)

        return note


_PERMISSIONS: Mapping[str, tuple[str, str]] = {
    "ContainerPermissions": ("Containers", "container"),
    "PrivilegedDataPermissions": ("PrivilegedData", "privilegedData"),
}


def _folded(text: str) -> str:
    """``text`` case-folded, as the same string object when it already is (a set of a million ids holds one string
    per id, not two)."""
    folded = text.lower()
    return text if folded == text else folded


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


_SKIP, _ID, _META, _EXTRA, _EXT, _ATTR, _COMPLEX, _MULTI_COMPLEX = range(8)
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
        return _EXT, (ext, {})  # and the plans of its sub-attributes, as they are met
    attr = _known(rtype.attr(key), key)
    if (kind == "Containers" and attr.name == "privilegedData") or attr.name == "groups":
        return _SKIP, None  # derived: from the secrets' container, from group membership (docs/behaviour.md §3)
    if attr.type == "complex":
        return (_MULTI_COMPLEX if attr.multi_valued else _COMPLEX), attr
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
        elif what == _COMPLEX:
            if type(value) is dict and attr.plain_subs.issuperset(zip(value, map(type, value.values()), strict=True)):
                doc[attr.name] = value  # its own stored form: kept as parsed (the store copies what it keeps)
            elif (coerced := _coerce(attr, value)) is not None:
                doc[attr.name] = coerced
        elif what == _MULTI_COMPLEX:
            if type(value) is list and _plain_items(attr.plain_subs, value):
                doc[attr.name] = value
            elif (coerced := _coerce(attr, value)) is not None:
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
            ext, subs = attr
            ext_doc = {}
            for k, v in value.items():
                sub = subs.get(k)
                if sub is None:
                    sub = subs[k] = _known(ext.attr(k), k)
                ext_doc[sub.name] = v if type(v) is sub.plain_type else _coerce(sub, v)
            doc[ext.id] = ext_doc
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


def _plain_columns(plan: _Shape, entries: list[dict[str, Any]]) -> bool:
    """Whether ``entries`` (all of ``plan``'s shape) hold only values already in stored form, a column at a time."""
    get, repeat, chain = dict.get, itertools.repeat, itertools.chain.from_iterable
    for key, what, types, subs in plan.columns:
        column: list[Any] = list(map(get, entries, repeat(key)))
        if not types.issuperset(map(type, column)):
            return False
        if what == _COMPLEX or what == _EXT:
            if not _plain_dicts(subs, column):
                return False
        elif what == _MULTI_COMPLEX:
            if not _plain_dicts(subs, list(chain(column))):
                return False
            if not all(_plain_items(subs, value) for value in column if len(value) > 1):
                return False  # more than one primary value (RFC 7643 §2.4)
        elif what == _REQUIRED_TEXT and not all(map(str.strip, column)):
            return False
    return True


def _plain_items(subs: frozenset[tuple[str, type]], items: list[Any]) -> bool:
    """Whether every item of a multi-valued complex value is already its stored form (``Attribute.plain_subs``)
    and at most one is primary (RFC 7643 §2.4); otherwise ``coerce`` says what is wrong or builds the stored form.
    A long list (a group's members) is checked at C speed: every (key, type of value) pair of every item at once."""
    if len(items) > 4:
        return _plain_dicts(subs, items) and list(map(dict.get, items, itertools.repeat("primary"))).count(True) <= 1
    primary = 0
    for item in items:
        if type(item) is not dict or not subs.issuperset(zip(item, map(type, item.values()), strict=True)):
            return False
        if item.get("primary") is True:
            primary += 1
    return primary <= 1


def _plain_dicts(subs: frozenset[tuple[str, type]], values: list[Any]) -> bool:
    """Whether every value is a dict whose every (key, type of its value) pair is in ``subs``, checked at C speed:
    all the pairs of all the dicts at once."""
    if not _DICT.issuperset(map(type, values)):
        return False
    chain = itertools.chain.from_iterable
    return subs.issuperset(zip(chain(values), map(type, chain(map(dict.values, values))), strict=True))


_DICT, _LIST, _STR = frozenset({dict}), frozenset({list}), frozenset({str})
_REQUIRED_TEXT = -1  # a column check of its own: a required string attribute, not blank
_BATCH = 256  # users read a batch at a time (_plain_users): large enough for C speed, small enough to stay in cache


class _Shape(NamedTuple):
    """How a batch of user entries that all have one key shape is checked and completed (``_plain_users``)."""

    columns: tuple[tuple[str, int, frozenset[type], frozenset[tuple[str, type]]], ...]
    """(key, what ``_plan`` says, the types its values may have, the (sub-key, type) pairs of a complex value)."""
    dropped: tuple[str, ...]
    schemas: tuple[str, ...]


def _shape(rtype: ResourceType, shape: tuple[str, ...], plans: dict[str, _Plan]) -> _Shape | None:
    """The checks of a batch of entries with the keys ``shape`` (in that order), or ``None`` when such entries are
    read one by one: a key spelt otherwise than the schema does, ``meta``, a password, an id to generate."""
    if "id" not in shape or "meta" in shape:
        return None
    columns: list[tuple[str, int, frozenset[type], frozenset[tuple[str, type]]]] = []
    dropped: list[str] = []
    for key in shape:
        try:
            plan = plans[key] if key in plans else plans.setdefault(key, _plan(rtype, "Users", key))
        except _Bad:
            return None
        what, attr = plan
        if what == _SKIP:
            dropped.append(key)
        elif what == _ID:
            columns.append((key, _ID, _STR, frozenset()))
        elif what == _ATTR and attr.plain_type is not None and key == attr.name:
            columns.append((key, _ATTR, frozenset({attr.plain_type}), frozenset()))
        elif what in (_COMPLEX, _MULTI_COMPLEX) and key == attr.name:
            columns.append((key, what, _DICT if what == _COMPLEX else _LIST, attr.plain_subs))
        elif what == _EXT and key == attr[0].id:
            subs = frozenset((a.name, a.plain_type) for a in attr[0].attributes if a.plain_type is not None)
            columns.append((key, _EXT, _DICT, subs))
        else:
            return None
    for name in _required(rtype):
        if name not in shape:
            return None
        if (name, _ATTR, _STR, frozenset()) in columns:
            columns.append((name, _REQUIRED_TEXT, _STR, frozenset()))
    kept = {key: None for key in shape if key not in dropped}
    return _Shape(tuple(columns), tuple(dropped), tuple(schemas_of(rtype, kept)))


def _batches(entries: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``entries`` in lists of ``size`` (the last one shorter)."""
    it = iter(entries)
    while batch := list(itertools.islice(it, size)):
        yield batch


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


def _no_cycles(parent: Mapping[str, str | None]) -> None:
    """No container is its own ancestor (docs/behaviour.md §13)."""
    for start in parent:
        seen: set[str] = set()
        node: str | None = start
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
