"""store.members: which member lists a group keeps in a member table (the stored shape, distinct values), table-driven
against the one-member rule (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from mockscim.store.members import MemberTable

M = {"value": "u1", "display": "u1@example.com", "type": "User"}


def _one_by_one(members: list[Any]) -> bool:
    """The rule, one member at a time: a dict of exactly value, display, type (in that order), type "User", value
    and display strings; values distinct."""
    for m in members:
        if not (type(m) is dict and list(m) == ["value", "display", "type"] and m["type"] == "User"
                and type(m["value"]) is str and type(m["display"]) is str):
            return False
    return len({m["value"] for m in members}) == len(members)


def _with(i: int, member: Any, n: int = 5) -> list[Any]:
    members: list[Any] = [{**M, "value": f"u{k}"} for k in range(n)]
    members[i] = member
    return members


CASES = {
    "none": [],
    "stored shape": _with(0, {**M, "value": "u0"}),
    "not a dict": _with(2, "u2"),
    "keys in another order": _with(1, {"display": "d", "value": "u1", "type": "User"}),
    "an extra key": _with(3, {**M, "value": "u3", "$ref": "x"}),
    "no type": _with(4, {"value": "u4", "display": "d"}),
    "a group": _with(0, {**M, "value": "u0", "type": "Group"}),
    "type not text": _with(0, {**M, "value": "u0", "type": ["User"]}),
    "display not text": _with(1, {**M, "value": "u1", "display": None}),
    "value not text": _with(2, {**M, "value": 2}),
    "a value twice": _with(4, {**M, "value": "u0"}),
}


@pytest.mark.parametrize("members", CASES.values(), ids=CASES.keys())
def test_a_member_table_is_built_exactly_for_members_in_stored_shape(members: list[Any]) -> None:
    table = MemberTable.build(members)
    assert (table is not None) == _one_by_one(members)
    if table is not None:
        assert list(table.at(0)) == members
