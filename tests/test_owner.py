"""The Owner model (docs/behaviour.md §4, §9, §10), table-driven over a small store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from mockscim.resources import owner
from mockscim.store.memory import MemoryStore

U, V, W = "u", "v", "w"  # u: direct and group grants; v: member of g2; w: member of nothing, no grants
#
#   1 ─ 2 ─ 3 ─ 4        u Owner on 2 (inherited by 3, 4); v Edit on 1
#   5                    g1 (u) Owner on 5
#   6 ─ 7                u View on 6; g2 (v) Owner on 7
#
STATE: dict[str, list[dict[str, Any]]] = {
    "Users": [{"id": U, "userName": "U@x.test"}, {"id": V, "userName": "v@x.test"}, {"id": W, "userName": "w@x.test"}],
    "Groups": [{"id": "g1", "displayName": "g1", "members": [{"value": U}]},
               {"id": "g2", "displayName": "g2", "members": [{"value": V}]}],
    "Containers": [
        {"id": "1", "name": "r1"}, {"id": "2", "name": "a", "parent": {"value": "1"}},
        {"id": "3", "name": "b", "parent": {"value": "2"}}, {"id": "4", "name": "c", "parent": {"value": "3"}},
        {"id": "5", "name": "r2"}, {"id": "6", "name": "r3"}, {"id": "7", "name": "d", "parent": {"value": "6"}},
    ],
    "ContainerPermissions": [
        {"id": "1", "container": {"value": "2"}, "user": {"value": U}, "rights": ["Owner"]},
        {"id": "2", "container": {"value": "5"}, "group": {"value": "g1"}, "rights": ["Owner", "Edit"]},
        {"id": "3", "container": {"value": "6"}, "user": {"value": U}, "rights": ["View"]},
        {"id": "4", "container": {"value": "7"}, "group": {"value": "g2"}, "rights": ["Owner"]},
        {"id": "5", "container": {"value": "1"}, "user": {"value": V}, "rights": ["Edit", "Add Secret"]},
    ],
    "PrivilegedData": [
        {"id": "10", "name": "s10", "container": {"value": "3"}},
        {"id": "11", "name": "s11", "container": {"value": "6"}},
        {"id": "12", "name": "s12"},
        {"id": "13", "name": "s13", "container": {"value": "7"}},
        {"id": "14", "name": "s14", "container": {"value": "1"}},
    ],
    "PrivilegedDataPermissions": [
        {"id": "1", "privilegedData": {"value": "11"}, "user": {"value": U}, "rights": ["Owner"]},
        {"id": "2", "privilegedData": {"value": "12"}, "group": {"value": "g1"}, "rights": ["Owner"]},
        {"id": "3", "privilegedData": {"value": "14"}, "user": {"value": U}, "rights": ["List"]},
    ],
}


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    s = MemoryStore()
    s.load(STATE)
    return s


# (user, revoked containers, owned containers)
OWNED = [
    (U, set(), {"2", "3", "4", "5"}),              # direct grant inherited downwards; group grant; View is not Owner
    (V, set(), {"7"}),                             # through g2 only; Edit on 1 is not Owner
    (W, set(), set()),                             # no grants at all
    (None, set(), set()),                          # the static token without a service user owns nothing
    (U, {"3"}, {"2", "5"}),                        # a revocation denies the container and what inherits from it
    (U, {"1"}, {"5"}),                             # ... also when revoked above the grant
    (U, {"4", "5"}, {"2", "3"}),
    (U, {"6"}, {"2", "3", "4", "5"}),              # revoking where nothing is owned changes nothing
]


@pytest.mark.parametrize(("user", "revoked", "expected"), OWNED)
def test_owned_containers(store: MemoryStore, user: str | None, revoked: set[str], expected: set[str]) -> None:
    assert owner.ownership(store, user, revoked).containers == expected
    every = {str(c["id"]) for c in STATE["Containers"]} | {"99"}
    # The single-container check agrees with the set computed for lists.
    assert {c for c in every if owner.owns_container(store, user, c, revoked)} == expected


# (user, revoked, owned secrets)
SECRETS = [
    (U, set(), {"10", "11", "12"}),  # 10 via its container; 11 via a user PDP; 12 (no container) via a group PDP
    (V, set(), {"13"}),
    (W, set(), set()),
    (None, set(), set()),
    (U, {"2"}, {"11", "12"}),        # 10's container is revoked
    (U, {"6"}, {"10", "12"}),        # a revocation on a secret's container denies its PDP Owner too (§10)
]


@pytest.mark.parametrize(("user", "revoked", "expected"), SECRETS)
def test_owned_secrets(store: MemoryStore, user: str | None, revoked: set[str], expected: set[str]) -> None:
    view = owner.ownership(store, user, revoked)
    secrets = STATE["PrivilegedData"]
    assert {str(s["id"]) for s in secrets if view.owns_secret(s)} == expected
    assert {str(s["id"]) for s in secrets if owner.owns_secret(store, user, s, revoked)} == expected


# (user, container, secret, revoked, rights)
RIGHTS: list[tuple[str | None, str | None, str | None, set[str], set[str]]] = [
    (U, "4", None, set(), {"Owner"}),                    # inherited from 2
    (U, "7", None, set(), {"View"}),                     # inherited from 6
    (V, "4", None, set(), {"Edit", "Add Secret"}),       # inherited from 1
    (V, "7", None, set(), {"Owner"}),                    # 6 and 7 are not under 1
    (U, "1", None, set(), set()),
    (U, "99", None, set(), set()),                       # a missing folder gives nothing
    (U, None, "10", set(), {"Owner"}),
    (U, None, "11", set(), {"Owner", "View"}),           # PDP and folder rights together
    (U, None, "14", set(), {"List"}),
    (V, None, "14", set(), {"Edit", "Add Secret"}),
    (U, None, "12", set(), {"Owner"}),                   # no folder: the PDP alone
    (U, None, "99", set(), set()),
    (W, "4", "10", set(), set()),
    (None, "4", None, set(), set()),
    (U, "4", None, {"3"}, set()),                        # a revocation removes Owner, and only Owner
    (U, None, "11", {"6"}, {"View"}),
]


@pytest.mark.parametrize(("user", "container", "secret", "revoked", "expected"), RIGHTS)
def test_facade_rights(store: MemoryStore, user: str | None, container: str | None, secret: str | None,
                       revoked: set[str], expected: set[str]) -> None:
    assert owner.facade_rights(store, user, container, secret, revoked=revoked) == expected


def test_revoked_for_matches_user_names_case_insensitively() -> None:
    entries = {("1", "u@x.test"), ("2", "other@x.test"), ("3", "u@x.test")}
    assert owner.revoked_for(entries, "U@X.test") == {"1", "3"}
    assert owner.revoked_for(entries, None) == frozenset()


def test_ancestors_stop_on_a_cycle() -> None:
    s = MemoryStore()
    s.load({"Containers": [{"id": "1", "name": "a", "parent": {"value": "2"}},
                           {"id": "2", "name": "b", "parent": {"value": "1"}}]})
    assert owner.ancestors(s, "1") == ["1", "2"]
    assert owner.subtree(s, ["1"]) == {"1", "2"}


class CountingStore:
    """A store that counts reads and has no ``all``: the Owner model must work from the indexes alone."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner, self.reads = inner, 0

    def get(self, kind: str, id: str) -> Mapping[str, Any] | None:
        self.reads += 1
        return self.inner.get(kind, id)

    def lookup(self, kind: str, attr: str, value: Any) -> list[Mapping[str, Any]]:
        self.reads += 1
        return self.inner.lookup(kind, attr, value)


def test_ownership_cost_follows_what_is_owned_not_the_store_size() -> None:
    """docs/behaviour.md §4 lists: the owned set comes from the principal's permissions and the owned subtrees only."""
    n = 2000
    containers = [{"id": str(i), "name": f"c{i}"} for i in range(1, n + 1)]
    containers.append({"id": str(n + 1), "name": "child", "parent": {"value": "1"}})
    perms = [{"id": str(i), "container": {"value": str(i)}, "user": {"value": V}, "rights": ["Owner"]}
             for i in range(1, n + 1)]
    perms.append({"id": str(n + 1), "container": {"value": "1"}, "user": {"value": U}, "rights": ["Owner"]})
    inner = MemoryStore()
    inner.load({"Users": STATE["Users"], "Containers": containers, "ContainerPermissions": perms})
    counting = CountingStore(inner)
    assert owner.ownership(counting, U).containers == {"1", str(n + 1)}
    assert counting.reads < 20
