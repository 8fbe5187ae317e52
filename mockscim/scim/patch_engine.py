"""The PATCH engine: operations applied one by one to a copy-on-write document (RFC 7644 §3.5.2.1-3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mockscim.scim.errors import Immutable, InvalidAttribute, InvalidValue, RequiredAttribute
from mockscim.scim.filters import PatchPath, Predicate, compile_filter
from mockscim.scim.filters import parse_path as _parse_path
from mockscim.scim.patch_values import (
    SCALARS,
    Target,
    copy_json,
    duplicate,
    is_empty,
    listed,
    prune,
    reset_primary,
    same_value,
)
from mockscim.scim.schema import Attribute, ResourceType, Schema
from mockscim.scim.validate import coerce, coerce_single

OPS = frozenset({"add", "remove", "replace"})


@dataclass(frozen=True)
class Operation:
    """One PatchOp operation: ``op`` lower-cased, ``path`` parsed (None when path-less), ``value`` as given."""

    op: str
    path: PatchPath | None
    value: Any
    raw_path: str | None


_UNTOUCHED = frozenset({"id", "schemas", "meta"})




# A parsed path is a frozen value, so the few distinct paths clients send (Entra's path-less keys, "displayName",
# 'emails[type eq "work"].value') are parsed once. A path that does not parse raises again every time.
parse_path = lru_cache(maxsize=1024)(_parse_path)


# Resolved paths kept per resource type (``ResourceType.memo``). Request text is in the keys, so both the number
# of entries and the length of a memoised path are bounded.
_MEMO_MAX = 2048


_MEMO_KEY_MAX = 200


_INVALID = object()  # memo: a path-less key that names nothing (ignored, docs/behaviour.md §6)


def get_ci(obj: Mapping[str, Any], key: str) -> Any:
    """``obj[key]`` with the key matched case-insensitively (RFC 7643 §2.1: names are case-insensitive), or None."""
    if key in obj:
        return obj[key]
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return None


def has_ci(obj: Mapping[str, Any], key: str) -> bool:
    if key in obj:
        return True
    low = key.lower()
    return any(isinstance(k, str) and k.lower() == low for k in obj)


def syntax_error() -> InvalidValue:
    return InvalidValue(scim_type="invalidSyntax")


def invalid_path() -> InvalidValue:
    return InvalidValue(scim_type="invalidPath")


class Patcher:
    """Applies operations to a working copy of one stored document, copied on write one top-level key at a time.

    ``doc`` starts as a shallow copy of the stored document: the value of a key no operation has reached yet is
    the stored object itself and is never changed. ``own(key)`` gives a key (a top-level attribute, or a whole
    extension object) a private copy before an operation reads or changes it.

    The document's invariants (no unassigned values, RFC 7643 §2.5; immutables unchanged, RFC 7644 §3.5.2) hold
    after every operation, as if the whole document were pruned and checked after each one, as the previous
    engine did, so the next operation sees the same document and the same error comes first. Only the keys
    operations reached can have changed, so only those are pruned and checked after each one; a key first reached
    by a later operation gets, in ``settled``, exactly the value pruning and checking after each operation would
    have left in it; and ``finish`` settles the keys no operation reached. See ``apply_operations``.
    """

    def __init__(self, rtype: ResourceType, doc: Mapping[str, Any], resource_id: str, strict: bool) -> None:
        self.rtype, self.original, self.resource_id, self.strict = rtype, doc, resource_id, strict
        self.doc: dict[str, Any] = dict(doc)
        self.owned: set[str] = set()  # keys whose value in ``doc`` is a private copy (or which were removed)
        self.ran = False  # whether an operation completed: from then on every key is as the invariants leave it
        self.core = rtype.schema.id.lower()
        self.immutables = rtype.immutables
        self.immutable_keys = {attr.name if urn is None else urn for urn, attr in self.immutables}

    # -- copy on write -----------------------------------------------------------------------------------------

    def own(self, key: str) -> None:
        """Make ``doc[key]`` a private copy before the running operation reads or changes it."""
        if key in self.owned:
            return
        self.owned.add(key)
        if key not in self.original:
            return
        if self.ran:
            self.settled(key)
        else:
            self.doc[key] = copy_json(self.original[key])

    def settled(self, key: str) -> None:
        """Set ``doc[key]`` to what pruning and ``check_immutables`` after every operation make of a stored value
        no operation has changed: pruned, with its immutables back in their stored spelling (which they had to
        match, or the first operation's check raised)."""
        value = self.original[key]
        if key in _UNTOUCHED:
            self.doc[key] = copy_json(value)  # never pruned
            return
        value = prune(value)
        if is_empty(value):
            del self.doc[key]
        else:
            self.doc[key] = value
        if key not in self.immutable_keys:
            return
        for urn, attr in self.immutables:
            if (attr.name if urn is None else urn) == key:
                before = self.before(urn, attr)
                box = self.doc if urn is None else self.doc.get(urn)
                if not is_empty(before) and isinstance(box, dict):  # a box the check let through is never empty
                    box[attr.name] = copy_json(before)

    def before(self, urn: str | None, attr: Attribute) -> Any:
        """An immutable's stored value."""
        return self.original.get(attr.name) if urn is None else (self.original.get(urn) or {}).get(attr.name)

    # -- paths -------------------------------------------------------------------------------------------------

    def resolve(self, path: PatchPath) -> Target | Schema:
        """A parsed path → its target, or the extension schema when the path is an extension URN alone."""
        attr_path, lookup, urn = path.attr, self.rtype.attr, None
        if attr_path.urn is not None:
            whole = f"{attr_path.urn}:{attr_path.name}"
            ext = self.rtype.ext(whole) if attr_path.sub is None and path.filter is None else None
            if ext is not None:
                return ext
            if attr_path.urn.lower() != self.core:  # core URN-qualified = top level (RFC 7644 §3.10)
                ext = self.rtype.ext(attr_path.urn)
                if ext is None:
                    raise invalid_path()
                lookup, urn = ext.attr, ext.id
        attr = lookup(attr_path.name)
        if attr is None or (attr_path.sub is not None and path.filter is not None):
            raise invalid_path()
        sub_name = attr_path.sub or path.sub
        sub = attr.sub(sub_name) if sub_name is not None else None
        if (sub_name is not None and sub is None) or (path.filter is not None and not attr.multi_valued):
            raise invalid_path()
        match: Predicate | None = None
        if path.filter is not None:

            def exact(name: str) -> bool:
                found = attr.sub(name) if attr.type == "complex" else (attr if name == "value" else None)
                return found is not None and found.case_exact

            match = compile_filter(path.filter, case_exact=exact)
        label = attr.name if sub is None else f"{attr.name}.{sub.name}"
        return Target(urn, attr, sub, match, label)

    def holder(self, t: Target, *, create: bool) -> dict[str, Any] | None:
        """The dict an attribute lives in: the document, or its extension's object (RFC 7643 §3.3)."""
        urn = t.urn
        if urn is None:
            self.own(t.attr.name)
            return self.doc
        self.own(urn)
        box = self.doc.get(urn)
        if not isinstance(box, dict):
            if not create:
                return None
            box = self.doc[urn] = {}
        return box

    # -- operations --------------------------------------------------------------------------------------------

    def run(self, op: Operation) -> None:
        if op.path is None:
            self.pathless(op.op, op.value)
            return
        target = self.target(op)
        if isinstance(target, Schema):
            self.extension(op.op, target, op.value)
        else:
            self.apply(op.op, target, op.value)

    def target(self, op: Operation) -> Target | Schema:
        """What the path of ``op`` (not path-less) names; a path that does not resolve raises."""
        assert op.path is not None
        # A resolved path depends on the resource type alone, so it is kept there, under the parsed path object
        # (``parse_path`` is cached: the same text gives the same object; an Operation built by other code with
        # its own path object simply misses). A path that does not resolve raises each time, as the operation's
        # error. Not keyed by PatchPath equality: ``[x eq true]`` equals ``[x eq 1]`` as dataclasses.
        memo, key = self.rtype.memo, ("patch.path", op.raw_path)
        hit = memo.get(key)
        if hit is not None and hit[0] is op.path:
            target = hit[1]
        else:
            target = self.resolve(op.path)
            if hit is not None or (len(memo) < _MEMO_MAX and len(op.raw_path or "") <= _MEMO_KEY_MAX):
                memo[key] = (op.path, target)
        return target  # type: ignore[no-any-return]

    def pathless(self, op: str, value: Any) -> None:
        """RFC 7644 §3.5.2.1 / §3.5.2.3 without path: each key (plain, dotted or URN-qualified) is its own target."""
        if not isinstance(value, Mapping):
            return
        for key, sub_value in value.items():
            if not isinstance(key, str):
                continue
            low = key.lower()
            if low == "schemas":
                continue
            ext = self.rtype.ext(low)
            if ext is not None:
                self.extension(op, ext, sub_value)
            elif low == self.core:
                self.pathless(op, sub_value)
            else:
                self.keyed(op, key, sub_value)

    def keyed(self, op: str, key: str, value: Any) -> None:
        """One key of a path-less value; docs/behaviour.md §6: a key the schema does not know is ignored, as in
        POST/PUT."""
        target = self.key_target(key)
        if isinstance(target, Schema):
            self.extension(op, target, value)
        elif isinstance(target, Target):
            self.apply(op, target, value)

    def key_target(self, key: str) -> Target | Schema | None:
        """What one key of a path-less value names, or ``None`` for a key the schema does not know."""
        memo, memo_key = self.rtype.memo, ("patch.key", key)
        target: Target | Schema | object | None = memo.get(memo_key)
        if target is None:
            try:
                target = self.resolve(parse_path(key))
            except InvalidValue:
                target = _INVALID
            if len(memo) < _MEMO_MAX and len(key) <= _MEMO_KEY_MAX:
                memo[memo_key] = target
        return target if isinstance(target, Target | Schema) else None

    def extension(self, op: str, ext: Schema, value: Any) -> None:
        """A path naming an extension URN alone: its value is an object of that extension's attributes."""
        if op == "remove":
            self.own(ext.id)
            self.doc.pop(ext.id, None)
            return
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise InvalidAttribute(ext.name)
        for key, sub_value in value.items():
            if isinstance(key, str):
                self.keyed(op, f"{ext.id}:{key}", sub_value)

    def apply(self, op: str, t: Target, value: Any) -> None:
        if t.attr.mutability == "readOnly" or (t.sub is not None and t.sub.mutability == "readOnly"):
            # docs/behaviour.md §3/§6: read-only values are ignored, except a foreign id (Okta re-sends the same id on
            # rename).
            if self.strict and t.urn is None and t.attr.name == "id" and (op == "remove" or value != self.resource_id):
                raise Immutable("id")
            return
        if value is None and op != "remove":
            if op == "add":
                return
            op = "remove"  # RFC 7643 §2.5: replacing with null unassigns
        holder = self.holder(t, create=op != "remove")
        if holder is None:
            return
        name = t.attr.name
        if t.match is not None or (t.attr.multi_valued and t.sub is not None):
            self.elements(op, t, holder, value)
        elif t.sub is not None:
            # "name.givenName": one sub-attribute of a single-valued complex attribute.
            current = holder.get(name)
            if op == "remove":
                if isinstance(current, dict):
                    current.pop(t.sub.name, None)
                return
            new = coerce(t.sub, value, t.label)
            holder[name] = {**current, t.sub.name: new} if isinstance(current, dict) else {t.sub.name: new}
        elif op == "remove":
            if value is not None and t.attr.multi_valued:
                # Entra ID: {"op":"Remove","path":"members","value":[{"value":"<id>"}]} removes only those members.
                named = coerce(t.attr, value if isinstance(value, list) else [value], t.label)
                holder[name] = [e for e in holder.get(name) or [] if not any(listed(t.attr, x, e) for x in named)]
            else:
                holder.pop(name, None)  # RFC 7644 §3.5.2.2: the attribute becomes unassigned
        else:
            new = coerce(t.attr, value, t.label)
            current = holder.get(name)
            if t.attr.multi_valued and op == "add":
                # RFC 7644 §3.5.2.1: add to a multi-valued attribute appends; values already present are skipped.
                items = list(current) if isinstance(current, list) else []
                added: list[int] = []
                for item in new:
                    if not any(duplicate(t.attr, item, old) for old in items):
                        items.append(item)
                        added.append(len(items) - 1)
                reset_primary(t.attr, items, added)
                holder[name] = items
            elif t.attr.type == "complex" and not t.attr.multi_valued and isinstance(current, dict):
                # RFC 7644 §3.5.2.1 / §3.5.2.3: sub-attributes not in the value are left unchanged.
                holder[name] = {**current, **new}
            else:
                holder[name] = new  # single value set; §3.5.2.3: a multi-valued attribute's values all replaced

    def elements(self, op: str, t: Target, holder: dict[str, Any], value: Any) -> None:
        """A value-filtered path ``multi[filter]`` / ``multi[filter].sub`` (no filter: every element's ``sub``)."""
        current = holder.get(t.attr.name)
        items: list[Any] = list(current) if isinstance(current, list) else []
        hits = [
            i for i, e in enumerate(items) if t.match is None or t.match(e if isinstance(e, Mapping) else {"value": e})
        ]
        if op == "remove":
            # RFC 7644 §3.5.2.2: matching values (or their sub-attribute) removed; no match changes nothing.
            if t.sub is None:
                holder[t.attr.name] = [e for i, e in enumerate(items) if i not in hits]
            else:
                for i in hits:
                    if isinstance(items[i], dict):
                        items[i].pop(t.sub.name, None)
            return
        if not hits:
            # RFC 7644 §3.5.2.3 (and docs/behaviour.md §6 for add): filter matched nothing
            raise InvalidValue(scim_type="noTarget")
        for i in hits:
            if t.sub is not None:
                # RFC 7644 §3.5.2.3: "addresses[type eq "work"].streetAddress" sets it on every matching value.
                items[i] = {**items[i], t.sub.name: coerce(t.sub, value, t.label)}
            elif t.attr.type == "complex":
                # RFC 7644 §3.5.2.3: matching values replaced; sub-attributes not given are left unchanged.
                items[i] = {**items[i], **coerce_single(t.attr, value, t.label)}
            else:
                items[i] = coerce_single(t.attr, value, t.label)
        reset_primary(t.attr, items, hits)
        holder[t.attr.name] = items

    # -- invariants --------------------------------------------------------------------------------------------

    def prune(self) -> None:
        """Drop unassigned values (RFC 7643 §2.5) everywhere but ``id``, ``schemas`` and ``meta``.

        Only the keys an operation reached (``owned``) can differ from the stored document; the others are
        pruned when they are settled (``settled``), which yields the same values.
        """
        doc = self.doc
        for key in self.owned:
            if key in _UNTOUCHED or key not in doc:
                continue
            value = doc[key]
            if value is None:
                del doc[key]
            elif isinstance(value, dict | list):
                value = prune(value)
                if value:
                    doc[key] = value
                else:
                    del doc[key]

    def check_immutables(self) -> None:
        """RFC 7644 §3.5.2: an immutable value MAY be added when unset but never changed; the same value is a no-op."""
        for urn, attr in self.immutables:
            before = self.before(urn, attr)
            if is_empty(before):
                continue
            key = attr.name if urn is None else urn
            if key in self.owned:
                box = self.doc if urn is None else self.doc.get(urn)
                if (
                    not isinstance(box, dict)
                    or box.get(attr.name) is None
                    or not same_value(attr, before, box[attr.name])
                ):
                    raise Immutable(attr.name)
                box[attr.name] = copy_json(before)  # the same value (caseExact-folded) keeps the stored spelling
            elif not self.ran and type(before) is not str:  # a stored string is pruned and the same as itself
                # Not reached by an operation: the value is the stored one, pruned (it is settled later).
                current = prune(before)
                if is_empty(current) or not same_value(attr, before, current):
                    raise Immutable(attr.name)

    def end_operation(self) -> None:
        """The invariants after each operation (RFC 7643 §2.5, RFC 7644 §3.5.2)."""
        self.prune()
        self.check_immutables()
        self.ran = True

    def finish(self) -> dict[str, Any]:
        """Settle the keys no operation reached and check required attributes; the new stored document."""
        for key, value in list(self.doc.items()):
            if key in self.owned or (value is not None and type(value) in SCALARS):
                continue  # a stored scalar is its own copy, pruned already, and its own stored spelling
            if self.ran:
                self.settled(key)
            else:
                self.doc[key] = copy_json(value)  # no operation at all: a plain copy, as before
        self.check_required()
        return self.doc

    def check_required(self) -> None:
        """RFC 7644 §3.5.2.2: a required attribute removed or unassigned → an error with scimType mutability."""
        for attr in self.rtype.schema.attributes:
            if attr.required and not is_empty(self.original.get(attr.name)) and is_empty(self.doc.get(attr.name)):
                raise RequiredAttribute(attr.name, scim_type="mutability")
