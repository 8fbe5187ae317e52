"""PATCH of a group's members as changes (RFC 7644 §3.5.2): the plain member shapes clients send, one member each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mockscim.scim.errors import ScimError
from mockscim.scim.filters import Compare
from mockscim.scim.patch_engine import Operation, Patcher
from mockscim.scim.patch_values import Target
from mockscim.scim.schema import ResourceType, Schema
from mockscim.scim.validate import coerce


class MemberEdit(Protocol):
    """The members of the resource being patched, changed one at a time (a ``GroupDoc`` edit)."""

    def add_member(self, value: str, member: dict[str, Any]) -> bool: ...

    def remove_member(self, value: str) -> bool: ...


Step = tuple[str, list[Any]]
_OTHER: Step = ("other", [])


def apply_member_operations(rtype: ResourceType, base: Mapping[str, Any], members: MemberEdit,
                            ops: Sequence[Operation], *, attr: str, resource_id: str,
                            strict_read_only: bool) -> dict[str, Any] | None:
    """Apply ``ops`` to ``base`` (the resource without ``attr``) and to ``members``; the new ``base``, or ``None``
    (nothing applied) when an operation is not one of the plain member changes below, for the caller to apply all
    of them the general way (``apply_operations``).

    Plain member changes, with the general engine's meaning (RFC 7644 §3.5.2.1-2, docs/behaviour.md §6):
    ``add`` on ``members`` with a list of members each naming a string ``value`` (already present: skipped);
    ``remove`` on ``members`` with such a value list (Entra: removes the listed ones); ``remove`` on
    ``members[value eq "x"]`` (Okta). Other operations must not reach ``members``; they run on ``base`` in order,
    so the first failing operation's error is the one reported, as with the general engine.
    """
    patcher = Patcher(rtype, base, resource_id, strict_read_only)
    steps: list[Step] = []
    for op in ops:
        step = _step(patcher, op, attr)
        if step is None:
            return None
        steps.append(step)
    for op, (kind, values) in zip(ops, steps, strict=True):
        if kind == "add":
            for item in values:
                members.add_member(item["value"], item)
        elif kind == "remove":
            for value in values:
                members.remove_member(value)
        else:
            patcher.run(op)
        patcher.end_operation()
    return patcher.finish()


def _step(patcher: Patcher, op: Operation, attr: str) -> Step | None:
    """What ``op`` does to the members (``None``: not a plain change, or not one this module can tell)."""
    if op.path is None:
        return _OTHER if not _names(patcher, op.value, attr) else None
    try:
        target = patcher.target(op)
    except ScimError:
        return _OTHER  # raises again when it runs, in its turn
    if isinstance(target, Schema) or target.urn is not None or target.attr.name != attr:
        return _OTHER
    if target.sub is not None:
        return None
    if op.op == "remove" and op.path.filter is not None:
        node = op.path.filter
        if (isinstance(node, Compare) and node.op == "eq" and node.path.urn is None and node.path.sub is None
                and node.path.name.lower() == "value" and isinstance(node.value, str)):
            return ("remove", [node.value])
        return None
    if op.path.filter is not None or op.value is None or op.op not in ("add", "remove"):
        return None
    items = _members(target, op.value if op.op == "add" or isinstance(op.value, list) else [op.value],
                     keep_empty=op.op == "remove")
    if items is None:
        return None
    return ("add", items) if op.op == "add" else ("remove", [item["value"] for item in items])


def _members(target: Target, value: Any, *, keep_empty: bool) -> list[dict[str, Any]] | None:
    """The coerced members of ``value``, each naming a string ``value``. An empty one is dropped from an ``add``
    (pruning drops it, RFC 7643 §2.5) and makes a ``remove`` general (an empty item there matches every member)."""
    try:
        items = coerce(target.attr, value, target.label)
    except ScimError:
        return None  # the general engine raises it at that operation
    out = items if keep_empty else [item for item in items if item]
    return out if all(isinstance(item, dict) and isinstance(item.get("value"), str) for item in out) else None


def _names(patcher: Patcher, value: Any, attr: str) -> bool:
    """Whether a path-less value names ``attr`` (or may: a nested core-schema object)."""
    if not isinstance(value, Mapping):
        return False
    core = patcher.core
    for key in value:
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        if key.lower() == core:
            return True
        target = patcher.key_target(key)
        if isinstance(target, Target) and target.urn is None and target.attr.name == attr:
            return True
    return False
