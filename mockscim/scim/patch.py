"""RFC 7644 §3.5.2 PATCH: PatchOp bodies parsed into operations and applied atomically to a stored resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockscim.scim.errors import InvalidValue
from mockscim.scim.patch_engine import OPS, Operation, Patcher, get_ci, has_ci, invalid_path, parse_path, syntax_error
from mockscim.scim.schema import ResourceType

__all__ = ["PATCH_OP", "Operation", "apply_operations", "parse_operations"]

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_PATCH_OP_LOWER = PATCH_OP.lower()


def parse_operations(body: Mapping[str, Any]) -> list[Operation]:
    """Validate a PatchOp body's structure (RFC 7644 §3.5.2) and return its operations; defects → InvalidValue."""
    if not isinstance(body, Mapping):
        raise syntax_error()
    schemas = get_ci(body, "schemas")
    # docs/behaviour.md §6: the tolerance of unknown URNs applies to resources, not PatchOp bodies: the PatchOp URN must
    # be there.
    if not isinstance(schemas, list) or not any(isinstance(s, str) and s.lower() == _PATCH_OP_LOWER for s in schemas):
        raise syntax_error()
    raw_ops = get_ci(body, "Operations")
    if not isinstance(raw_ops, list) or not raw_ops:
        raise syntax_error()
    out: list[Operation] = []
    for raw in raw_ops:
        if not isinstance(raw, Mapping):
            raise syntax_error()
        op = get_ci(raw, "op")
        # Entra ID sends "Add"/"Replace"/"Remove"; Microsoft asks for a case-insensitive match (docs/behaviour.md §6).
        if not isinstance(op, str) or op.lower() not in OPS:
            raise syntax_error()
        op = op.lower()
        raw_path = get_ci(raw, "path")
        if raw_path is not None and not isinstance(raw_path, str):
            raise invalid_path()
        text = raw_path.strip() if raw_path is not None else ""
        if op != "remove" and not has_ci(raw, "value"):
            raise syntax_error()  # RFC 7644 §3.5.2.1 / §3.5.2.3: "value" is required for add and replace
        value = get_ci(raw, "value")
        if not text:
            if op == "remove":
                raise InvalidValue(scim_type="noTarget")  # RFC 7644 §3.5.2.2: remove without path
            if value is not None and not isinstance(value, Mapping):
                raise InvalidValue()  # RFC 7644 §3.5.2.1: a path-less value is the set of attributes to change
        out.append(Operation(op, parse_path(text) if text else None, value, raw_path))
    return out


def apply_operations(
    rtype: ResourceType,
    doc: Mapping[str, Any],
    ops: Sequence[Operation],
    *,
    resource_id: str,
    strict_read_only: bool = True,
) -> dict[str, Any]:
    """Apply ``ops`` in order to a copy of ``doc`` and return the new stored document; ``doc`` is never changed.

    RFC 7644 §3.5.2: the operations are atomic, so any failing operation raises and leaves nothing applied.

    Cost: the document is copied on write, key by key (``Patcher.own``), and the invariants after each
    operation (prune, immutables) only visit the keys operations reached; the rest is pruned and copied once, in
    ``finish``. Doing the checks once after all operations would be cheaper still but not equivalent, which is
    why they stay per operation: (1) an operation that sets an immutable to another value and a later one that
    sets it back would pass; (2) with several failing operations, the first one's error must be reported (an
    ``Immutable`` from operation 1 before an ``InvalidValue`` from operation 2); (3) a later operation can see
    what pruning removed: after ``remove emails.value`` empties an element, ``emails[type ne "x"].display``
    must find no element (``noTarget``), not the empty one (``ne`` matches an absent value, RFC 7644 §3.4.2.2).
    """
    patcher = Patcher(rtype, doc, resource_id, strict_read_only)
    for op in ops:
        patcher.run(op)
        patcher.end_operation()
    return patcher.finish()
