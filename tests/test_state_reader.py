"""core.state: a complex value kept as it is parsed stores exactly what ``coerce`` would, or is refused as it would be
(table-driven, no HTTP: docs/behaviour.md §13)."""

from __future__ import annotations

from typing import Any

import pytest

from mockscim.core import StateError, normalise_state
from mockscim.scim.errors import ScimError
from mockscim.scim.profile import load_profile
from mockscim.scim.validate import coerce

PROFILE = load_profile("cloud")
USER = {"id": "u1", "userName": "u1@example.com"}
MEMBER = {"value": "u1", "display": "u1@example.com", "type": "User"}
EMAIL = {"value": "a@example.com", "type": "work"}


def _many(item: Any, n: int = 6, **at: Any) -> list[Any]:
    """``n`` copies of ``item``, with ``at`` (``i3={...}``) replacing the item at an index."""
    return [at.get(f"i{i}", dict(item) if isinstance(item, dict) else item) for i in range(n)]


CASES: list[tuple[str, str, str, Any]] = [
    ("members in stored form", "Groups", "members", _many(MEMBER, 1)),
    ("many members", "Groups", "members", _many(MEMBER, 300)),
    ("many members, one with an unknown key", "Groups", "members", _many(MEMBER, i4={**MEMBER, "shoe": 42})),
    ("many members, one null", "Groups", "members", _many(MEMBER, i2=None)),
    ("many members, one not an object", "Groups", "members", _many(MEMBER, i5="u1")),
    ("many members, a number as value", "Groups", "members", _many(MEMBER, i0={**MEMBER, "value": 7})),
    ("one member, a null display", "Groups", "members", [{**MEMBER, "display": None}]),
    ("no members", "Groups", "members", []),
    ("members not a list", "Groups", "members", MEMBER),
    ("one primary e-mail", "Users", "emails", [{**EMAIL, "primary": True}]),
    ("two primary e-mails", "Users", "emails", [{**EMAIL, "primary": True}, {**EMAIL, "primary": True}]),
    ("many e-mails, one primary", "Users", "emails", _many(EMAIL, i3={**EMAIL, "primary": True})),
    ("many e-mails, two primary", "Users", "emails",
     _many(EMAIL, i1={**EMAIL, "primary": True}, i4={**EMAIL, "primary": True})),
    ("many e-mails, primary as text", "Users", "emails", _many(EMAIL, i1={**EMAIL, "primary": "True"})),
    ("e-mail type in another case", "Users", "emails", [{"Value": "a@example.com", "TYPE": "work"}]),
    ("name in stored form", "Users", "name", {"givenName": "Barbara", "familyName": "Jensen"}),
    ("name with an unknown key", "Users", "name", {"givenName": "Barbara", "nickname": "Babs"}),
    ("name with a number", "Users", "name", {"givenName": 7}),
    ("name not an object", "Users", "name", "Barbara"),
]


@pytest.mark.parametrize(("kind", "attr", "value"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_complex_value_loads_as_coerce_makes_it(kind: str, attr: str, value: Any) -> None:
    entry = {"id": "e1", "displayName": "g"} if kind == "Groups" else {"id": "e1", "userName": "e1@example.com"}
    state = {"Users": [USER] + ([{**entry, attr: value}] if kind == "Users" else []),
             **({"Groups": [{**entry, attr: value}]} if kind == "Groups" else {})}
    schema_attr = PROFILE.all_types[kind].attr(attr)
    assert schema_attr is not None
    try:
        expected: Any = coerce(schema_attr, value, attr)
    except ScimError as exc:
        with pytest.raises(StateError, match=f"{kind}\\[\\d\\] \\(id 'e1'\\): {exc.detail}"):
            normalise_state(state, PROFILE, now="2026-12-07T00:00:00Z")
        return
    doc = normalise_state(state, PROFILE, now="2026-12-07T00:00:00Z")[kind][-1]
    assert doc.get(attr) == expected
